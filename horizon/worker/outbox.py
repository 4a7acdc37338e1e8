"""When a reply Twilio would not take is tried again, and when it is given up.

Each part is first sent under a short retry policy (`SEND_POLICY`): a blip is ridden out
within the turn. When that is spent on an error worth retrying (a 5xx, a 429, no answer),
the reply is not lost: its turn is parked in the store's outbox and tried again after a
back-off that doubles up to a few minutes, across restarts and by whichever replica is free,
until the deadline (`HORIZON_REPLY_DEADLINE`, counted from the turn's start). Past it, the
user gets the client's fallback_message instead (if it can be sent) and the messages fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from horizon.settings import DEFAULT_REPLY_DEADLINE
from horizon.store.records import Turn
from horizon.vendors.errors import VendorError
from horizon.vendors.retry import RetryPolicy

# One part's attempts within a turn. Short: the outbox, not a worker's slot, rides out an
# outage (a slot held 40 s per reply would stall every other user's turns meanwhile).
SEND_POLICY = RetryPolicy(attempts=5, base_delay=0.25, max_delay=4.0, budget=15.0)
# Waits between tries from the outbox: jittered, 5 s doubling up to 5 minutes. Only its
# delays are used; the deadline, not `attempts` or `budget`, ends the tries.
OUTBOX_BACKOFF = RetryPolicy(base_delay=5.0, max_delay=300.0)


@dataclass(frozen=True)
class OutboxPolicy:
    """The deadline of a reply (seconds from its turn's start) and the back-off before it."""

    deadline: float = DEFAULT_REPLY_DEADLINE
    backoff: RetryPolicy = field(default=OUTBOX_BACKOFF)

    def expired(self, turn: Turn, now: float) -> bool:
        return now >= turn.started_at + self.deadline

    def next_try(self, turn: Turn, error: VendorError, now: float) -> float | None:
        """When to try the reply again after `error`, or None: it cannot be sent.

        Never past the deadline: the try due at the deadline sends the fallback message
        instead of what is left of the reply (`TurnRunner._expire`).
        """
        if not error.transient or self.expired(turn, now):
            return None
        wait = self.backoff.delay(turn.send_failures + 1, error.retry_after)
        return min(now + wait, turn.started_at + self.deadline)
