"""The retry policy: what is retried, how long it waits, and when it gives up."""

from __future__ import annotations

import asyncio

import pytest

from horizon.vendors.errors import BusyError, VendorError
from horizon.vendors.retry import RetryPolicy, call, call_async


class Flaky:
    """Fails with the given errors, then returns "ok"."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors, self.calls = list(errors), 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def rate_limited(retry_after: float | None = None) -> VendorError:
    return VendorError("openai", "slow down", status=429, retry_after=retry_after)


def test_transient_errors_are_retried_until_success() -> None:
    waits: list[float] = []
    flaky = Flaky(rate_limited(), VendorError("twilio", "down", status=503), VendorError("x", "t"))

    assert call(flaky, RetryPolicy(base_delay=0.1), sleep=waits.append) == "ok"
    assert flaky.calls == 4
    assert len(waits) == 3
    assert 0.05 <= waits[0] <= 0.1 and 0.1 <= waits[1] <= 0.2 and 0.2 <= waits[2] <= 0.4


def test_retry_after_is_the_least_wait() -> None:
    waits: list[float] = []

    call(Flaky(rate_limited(retry_after=3.0)), RetryPolicy(base_delay=0.1), sleep=waits.append)

    assert waits == [3.0]


@pytest.mark.parametrize("status", [400, 401, 404])
def test_client_errors_are_raised_at_once(status: int) -> None:
    flaky = Flaky(VendorError("twilio", "bad", status=status))

    with pytest.raises(VendorError):
        call(flaky, sleep=lambda _: None)
    assert flaky.calls == 1


def test_bugs_are_never_retried() -> None:
    flaky = Flaky(KeyError("oops"))

    with pytest.raises(KeyError):
        call(flaky, sleep=lambda _: None)
    assert flaky.calls == 1


def test_attempts_and_budget_bound_the_retries() -> None:
    by_attempts = Flaky(*[rate_limited()] * 10)
    by_budget = Flaky(*[rate_limited(retry_after=4.0)] * 10)

    with pytest.raises(VendorError):
        call(by_attempts, RetryPolicy(attempts=3, base_delay=0.01), sleep=lambda _: None)
    with pytest.raises(VendorError):
        call(by_budget, RetryPolicy(budget=10.0), sleep=lambda _: None)

    assert by_attempts.calls == 3
    assert by_budget.calls == 3  # waits of 4 s + 4 s fit a 10 s budget; a third would not


def test_async_retry_waits_without_blocking() -> None:
    flaky = Flaky(rate_limited(), rate_limited())
    waits: list[float] = []

    async def attempt() -> str:
        return flaky()

    async def record(seconds: float) -> None:
        waits.append(seconds)

    result = asyncio.run(call_async(attempt, RetryPolicy(base_delay=0.01), sleep=record))

    assert result == "ok" and flaky.calls == 3 and len(waits) == 2


def test_vendor_error_names_vendor_status_and_code() -> None:
    error = VendorError("twilio", "Authenticate", status=401, code=20003)

    assert str(error) == "twilio HTTP 401 20003: Authenticate"
    assert not error.transient


def test_vendor_error_without_an_answer_says_so() -> None:
    error = VendorError("network", "ConnectionError: connection refused")

    assert str(error) == "network: no response: ConnectionError: connection refused"
    assert error.transient


class Clock:
    """A monotonic clock that only the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_budget_counts_the_attempts_as_well_as_the_waits() -> None:
    clock = Clock()
    calls = 0

    def times_out() -> str:
        nonlocal calls
        calls += 1
        clock.now += 20.0  # each attempt takes the client's whole timeout
        raise VendorError("twilio", "ReadTimeout")

    def sleep(seconds: float) -> None:
        clock.now += seconds

    with pytest.raises(VendorError):
        call(
            times_out,
            RetryPolicy(attempts=6, base_delay=0.1, budget=40.0),
            sleep=sleep,
            clock=clock,
        )

    assert calls == 2  # 20 s + a wait + 20 s: a third attempt would overrun 40 s


def test_after_an_ambiguous_failure_the_retry_looks_before_it_repeats() -> None:
    sent: list[str] = []

    def send() -> str:
        sent.append("SM1")
        raise VendorError("twilio", "connection dropped")  # it went out; the answer did not

    result = call(send, RetryPolicy(base_delay=0.01), recover=lambda: "SM1", sleep=lambda _: None)

    assert result == "SM1" and sent == ["SM1"]


def test_nothing_found_after_an_ambiguous_failure_repeats_the_request() -> None:
    flaky = Flaky(VendorError("openai", "server error", status=500))
    looked: list[bool] = []

    result = call(flaky, recover=lambda: looked.append(True), sleep=lambda _: None)

    assert result == "ok" and flaky.calls == 2 and looked == [True]


def test_a_refusal_is_retried_without_looking() -> None:
    flaky = Flaky(rate_limited(), VendorError("twilio", "conflict", status=409))

    result = call(flaky, recover=pytest.fail, sleep=lambda _: None)

    assert result == "ok" and flaky.calls == 3


def test_a_look_that_fails_is_made_again_before_any_repeat() -> None:
    flaky = Flaky(VendorError("openai", "timed out"))
    looks = Flaky(VendorError("openai", "list failed", status=503))

    result = call(flaky, recover=lambda: looks() and None, sleep=lambda _: None)

    assert result == "ok" and looks.calls == 2 and flaky.calls == 2


def test_a_busy_conversation_is_ambiguous_and_retried_whatever_its_status() -> None:
    busy = BusyError("openai", "Another process is operating on it", status=400)

    assert busy.transient and busy.ambiguous
    assert not VendorError("openai", "slow down", status=429).ambiguous


def test_async_recover_returns_what_the_first_attempt_made() -> None:
    async def create() -> str:
        raise VendorError("openai", "ReadTimeout")

    async def find() -> str | None:
        return "vs_1"

    async def no_wait(_: float) -> None:
        return None

    assert asyncio.run(call_async(create, recover=find, sleep=no_wait)) == "vs_1"


def test_failed_looks_are_bounded_by_the_budget_not_counted_as_attempts() -> None:
    clock = Clock()
    flaky = Flaky(VendorError("twilio", "timed out"))
    looks = Flaky(*[VendorError("twilio", "list failed", status=503)] * 4)

    def sleep(seconds: float) -> None:
        clock.now += seconds

    policy = RetryPolicy(attempts=3, base_delay=0.1, budget=30.0)
    result = call(flaky, policy, recover=lambda: looks() and None, sleep=sleep, clock=clock)

    assert result == "ok" and looks.calls == 5 and flaky.calls == 2

    endless = Flaky(*[VendorError("twilio", "list failed", status=503)] * 1000)
    with pytest.raises(VendorError, match="list failed"):
        call(Flaky(VendorError("twilio", "timed out")), RetryPolicy(budget=5.0),
             recover=lambda: endless() and None, sleep=sleep, clock=clock)  # fmt: skip
    assert endless.calls < 100
