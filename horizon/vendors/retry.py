"""Retry as policy: one place decides what is retried, how long to wait, and when to stop.

Reconcile's providers and the webhook's worker wrap every vendor call with `vendor_call`,
`call` or `call_async`; what is worth retrying is the `VendorError`'s to say, so the
policy never needs to know an SDK.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from horizon.vendors.errors import VendorError, vendor_errors

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off with full jitter, capped per wait, in attempts and in total time.

    `budget` bounds the whole call, attempts included: six attempts that each time out after
    20 s do not fit a 40 s budget. A `Retry-After` from the vendor is honoured as the least
    wait, within the budget.
    """

    attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 20.0
    budget: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `attempt` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        jittered = random.uniform(ceiling / 2, ceiling)
        return max(jittered, retry_after or 0.0)

    def waits(self, error: BaseException, attempt: int, spent: float) -> float | None:
        """The wait before the next attempt, or None when `error` must be raised.

        `spent` is the time the call has taken so far, attempts and waits together.
        """
        if not isinstance(error, VendorError) or not error.transient:
            return None
        if attempt >= self.attempts:
            return None
        wait = self.delay(attempt, error.retry_after)
        if spent + wait > self.budget:
            return None
        return wait


DEFAULT_POLICY = RetryPolicy()


class _Attempts:
    """One call's progress through the policy: attempts made, time spent, and doubt.

    After an ambiguous failure the first attempt may have taken effect, so every later
    attempt looks first (`recover`) and repeats the request only if it finds nothing. A
    look that fails is not an attempt of the request (the budget still bounds the looks).
    """

    def __init__(self, policy: RetryPolicy, clock: Callable[[], float], doubt: bool) -> None:
        self.policy, self.clock = policy, clock
        self.attempt, self.spent, self.doubt = 1, 0.0, doubt
        self.looking = False
        self.started = clock()

    def failed(self, error: VendorError, can_recover: bool) -> float:
        """The wait before trying again; raises `error` when the policy gives up."""
        self.looking = self.doubt and can_recover  # the failure came from the look
        self.doubt = self.doubt or (can_recover and error.ambiguous)
        self.spent += self.clock() - self.started
        wait = self.policy.waits(error, self.attempt, self.spent)
        if wait is None:
            raise error
        return wait

    def waited(self, seconds: float) -> None:
        if not self.looking:
            self.attempt += 1
        self.spent += seconds
        self.started = self.clock()


def call(
    function: Callable[[], T],
    policy: RetryPolicy = DEFAULT_POLICY,
    *,
    recover: Callable[[], T | None] | None = None,
    doubt: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Run `function`, retrying transient VendorErrors according to `policy`.

    `recover`, for a request that is not idempotent, finds what an earlier attempt may have
    done (None: nothing): after an ambiguous failure it runs before every new attempt, and
    what it finds is the result. `doubt` makes it run before the first attempt too (an
    earlier process may have made the request before it died).
    """
    attempts = _Attempts(policy, clock, doubt)
    while True:
        try:
            if attempts.doubt and recover is not None:
                found = recover()
                if found is not None:
                    return found
                attempts.doubt = False
            return function()
        except VendorError as error:
            wait = attempts.failed(error, recover is not None)
        sleep(wait)
        attempts.waited(wait)


async def call_async(
    function: Callable[[], Awaitable[T]],
    policy: RetryPolicy = DEFAULT_POLICY,
    *,
    recover: Callable[[], Awaitable[T | None]] | None = None,
    doubt: bool = False,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """`call` for coroutines: the wait never blocks the event loop."""
    attempts = _Attempts(policy, clock, doubt)
    while True:
        try:
            if attempts.doubt and recover is not None:
                found = await recover()
                if found is not None:
                    return found
                attempts.doubt = False
            return await function()
        except VendorError as error:
            wait = attempts.failed(error, recover is not None)
        await sleep(wait)
        attempts.waited(wait)


def vendor_call(
    function: Callable[[], T],
    policy: RetryPolicy = DEFAULT_POLICY,
    *,
    recover: Callable[[], T | None] | None = None,
) -> T:
    """Call an SDK function with its exceptions wrapped as VendorError and retried by `policy`.

    `recover` (see `call`) makes a create that is not idempotent look before it repeats.
    """

    def wrapped(function: Callable[[], Any]) -> Callable[[], Any]:
        def attempt() -> Any:
            with vendor_errors():
                return function()

        return attempt

    return call(wrapped(function), policy, recover=wrapped(recover) if recover else None)


def twilio_records(first_page: Callable[[], Any], policy: RetryPolicy) -> Iterator[Any]:
    """Every record of a Twilio listing, one retried request per page."""
    page = vendor_call(first_page, policy)
    while page is not None:
        yield from page
        page = vendor_call(page.next_page, policy)


def openai_records(first_page: Callable[[], Any], policy: RetryPolicy) -> Iterator[Any]:
    """Every item of an OpenAI cursor listing, one retried request per page."""
    page = vendor_call(first_page, policy)
    while True:
        yield from page.data
        if not page.has_next_page():
            return
        page = vendor_call(page.get_next_page, policy)
