"""Sending through Twilio: the typing indicator and reply parts, each with a status callback.

Sending a message is not idempotent: after an ambiguous failure (a timeout, a dropped
connection, a 5xx) the part may have gone out. Before sending it again the messenger looks
for it among the messages Twilio lists from the client's number to the user since the turn
began, leaving out those the store already knows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from twilio.rest import Client as TwilioClient

from horizon.telemetry.logs import log_event
from horizon.vendors.errors import VendorError, vendor_errors
from horizon.vendors.retry import RetryPolicy, call_async

# How far back of a turn's start a listed message may be dated and still be its part: the
# vendor's clock and ours can disagree by this much.
CLOCK_SKEW = 60.0
LOOK_PAGES = 3  # pages of 50 messages: far more than one turn sends
PAGE_SIZE = 50


def address(number: str, channel: str) -> str:
    """The Twilio address of an E.164 number on `channel` ('whatsapp:+34…' or '+34…')."""
    return f"whatsapp:{number}" if channel == "whatsapp" else number


@dataclass(frozen=True)
class Part:
    """One part of a reply to send: who from, to whom, what, and where to look for it."""

    from_: str
    to: str
    body: str
    since: float  # epoch seconds the turn began: an earlier message cannot be this part
    known: Callable[[], Awaitable[set[str]]]  # sids the store already holds for the pair


class Messenger:
    """Sends messages from a client's number; every call goes through the retry policy."""

    def __init__(
        self, twilio: TwilioClient, status_callback: str | None, policy: RetryPolicy
    ) -> None:
        self.twilio, self.status_callback, self.policy = twilio, status_callback, policy
        # Twilio's SDK loads its API modules on first use; loading them now keeps that
        # out of the first turn and lets `horizon serve` freeze them with the start-up heap.
        self._messages = twilio.messages
        self._typing = twilio.messaging.v2.typing_indicator

    async def typing(self, message_sid: str, channel: str) -> None:
        """Show 'typing…' for the message being answered; a failure only costs the indicator."""
        if channel != "whatsapp":
            return
        try:
            with vendor_errors():
                await self._typing.create_async(channel="whatsapp", message_id=message_sid)
        except VendorError as error:
            log_event("typing_indicator_failed", level=30, sid=message_sid, error=str(error))

    async def send(self, part: Part, *, doubt: bool = False) -> tuple[str, str]:
        """Send one part once; returns (sid, status). Raises VendorError once retries are spent.

        `doubt`: an earlier process may have sent it already (a turn resumed after a crash),
        so look before the first attempt too.
        """
        params = {"from_": part.from_, "to": part.to, "body": part.body}
        if self.status_callback:
            params["status_callback"] = self.status_callback

        async def create() -> tuple[str, str]:
            with vendor_errors():
                message = await self._messages.create_async(**params)
            return message.sid, message.status or "queued"

        async def look() -> tuple[str, str] | None:
            found = await self.find_sent(part)
            if found is not None:
                log_event("part_found_sent", sid=found[0], to=part.to)
            return found

        return await call_async(create, self.policy, recover=look, doubt=doubt)

    async def find_sent(self, part: Part) -> tuple[str, str] | None:
        """(sid, status) of a message Twilio holds that is this part, or None."""
        known = await part.known()
        with vendor_errors():
            page: Any = await self._messages.page_async(
                from_=part.from_, to=part.to, page_size=PAGE_SIZE
            )
            for _ in range(LOOK_PAGES):
                for message in page:  # newest first
                    created = message.date_created.timestamp() if message.date_created else 0
                    if created < part.since - CLOCK_SKEW:
                        return None
                    if message.body == part.body and message.sid not in known:
                        return message.sid, message.status or "queued"
                page = await page.next_page_async()
                if page is None:
                    return None
        return None

    async def close(self) -> None:
        http = self.twilio.http_client
        if hasattr(http, "close"):
            await http.close()
