"""Plain records the store takes and returns, so callers never see SQLAlchemy rows."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

# The owner of the claims of turns parked in the outbox: no worker's id (those have a
# host and a pid), so no worker renews or releases them; their lease ends at the next try.
OUTBOX_OWNER = "outbox"


@dataclass(frozen=True)
class Media:
    url: str
    content_type: str


@dataclass(frozen=True)
class InboundMessage:
    """A message as Twilio delivered it, before it is stored."""

    sid: str
    user_number: str
    client_number: str
    channel: str
    body: str
    client_id: str | None  # None: no client answers on `client_number`
    media: tuple[Media, ...] = ()
    received_at: float = 0.0

    def media_json(self) -> str | None:
        if not self.media:
            return None
        return json.dumps([{"url": m.url, "content_type": m.content_type} for m in self.media])


@dataclass(frozen=True)
class WorkItem:
    """A stored inbound message waiting for (or in) a turn."""

    id: int
    message_id: int
    sid: str
    client_id: str
    user_number: str
    client_number: str
    channel: str
    body: str
    media: tuple[Media, ...]
    received_at: float
    turn_id: int | None
    owner: str | None = None  # the worker whose turn claimed it
    lease_until: float | None = None  # the claim's end, unless its owner renews it

    def held_by_other(self, owner: str, now: float) -> bool:
        """Claimed by a turn of another worker whose lease still runs."""
        return (
            self.turn_id is not None
            and self.owner not in (None, owner)
            and (self.lease_until or 0.0) >= now
        )

    def parked(self, now: float) -> bool:
        """In a turn whose reply waits in the outbox, not yet due for its next try."""
        return (
            self.turn_id is not None
            and self.owner == OUTBOX_OWNER
            and (self.lease_until or 0.0) >= now
        )


@dataclass(frozen=True)
class Turn:
    """One answer to one or more messages; its parts are saved before any is sent."""

    id: int
    client_id: str
    user_number: str
    kind: str | None
    parts: tuple[str, ...] = field(default_factory=tuple)
    parts_sent: int = 0
    started_at: float = 0.0
    error: str | None = None  # why the reply is what it is (the model failed, a limit…)
    send_failures: int = 0  # times Twilio would not take it: it waited in the outbox

    @property
    def replied(self) -> bool:
        return self.kind is not None


@dataclass(frozen=True)
class Usage:
    model: str | None
    input_tokens: int
    output_tokens: int


def media_from_json(text: str | None) -> tuple[Media, ...]:
    if not text:
        return ()
    return tuple(Media(item["url"], item["content_type"]) for item in json.loads(text))
