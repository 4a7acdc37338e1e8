"""When a reply that could not be sent is tried again, and the deadline's setting."""

from __future__ import annotations

import pytest

from horizon.settings import InvalidSetting, Settings
from horizon.store.records import Turn
from horizon.vendors.errors import VendorError
from horizon.vendors.retry import RetryPolicy
from horizon.worker.outbox import OutboxPolicy

START = 1_000_000.0
POLICY = OutboxPolicy(deadline=600.0, backoff=RetryPolicy(base_delay=5.0, max_delay=300.0))
UNAVAILABLE = VendorError("twilio", "Service Unavailable", status=503)


def waiting(failures: int) -> Turn:
    return Turn(1, "pizzeria-roma", "+34600000001", "answer", ("hola",), 0, START, None, failures)


def test_the_wait_doubles_with_each_failure_up_to_its_cap():
    waits = [POLICY.next_try(waiting(n), UNAVAILABLE, START) - START for n in range(8)]
    assert 2.5 <= waits[0] <= 5.0 and 5.0 <= waits[1] <= 10.0
    assert all(150.0 <= wait <= 300.0 for wait in waits[6:])


def test_a_retry_after_is_waited_at_least():
    busy = VendorError("twilio", "Too Many Requests", status=429, retry_after=40.0)
    assert POLICY.next_try(waiting(0), busy, START) == START + 40.0


def test_the_last_try_is_at_the_deadline_and_none_comes_after_it():
    assert POLICY.next_try(waiting(6), UNAVAILABLE, START + 590.0) == START + 600.0
    assert POLICY.next_try(waiting(7), UNAVAILABLE, START + 600.0) is None
    assert POLICY.expired(waiting(7), START + 600.0)


def test_an_error_retrying_cannot_fix_is_not_kept():
    refused = VendorError("twilio", "Invalid 'To' Phone Number", status=400, code=21211)
    assert POLICY.next_try(waiting(0), refused, START) is None


@pytest.mark.parametrize(("value", "seconds"), [("14400", 14400.0), ("90s", 90.0), ("4h", 14400.0)])
def test_the_reply_deadline_is_seconds_or_a_duration(value: str, seconds: float):
    settings = Settings(_env_file=None, HORIZON_REPLY_DEADLINE=value)
    assert settings.reply_deadline == seconds


def test_the_reply_deadline_defaults_to_a_few_hours():
    assert Settings(_env_file=None).reply_deadline == 4 * 3600.0


@pytest.mark.parametrize("value", ["25h", "0", "soon"])
def test_a_reply_deadline_beyond_whatsapps_window_or_unreadable_is_named(value: str):
    with pytest.raises(InvalidSetting, match="^HORIZON_REPLY_DEADLINE: "):
        Settings(_env_file=None, HORIZON_REPLY_DEADLINE=value)
