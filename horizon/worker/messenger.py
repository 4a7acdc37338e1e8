"""Sending through Twilio: the typing indicator and reply parts, each with a status callback."""

from __future__ import annotations

from twilio.rest import Client as TwilioClient

from horizon.telemetry.logs import log_event
from horizon.vendors.errors import VendorError, vendor_errors
from horizon.vendors.retry import RetryPolicy, call_async


def address(number: str, channel: str) -> str:
    """The Twilio address of an E.164 number on `channel` ('whatsapp:+34…' or '+34…')."""
    return f"whatsapp:{number}" if channel == "whatsapp" else number


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

    async def send(self, from_: str, to: str, body: str) -> tuple[str, str]:
        """Send one part; returns (sid, status). Raises VendorError once retries are spent."""
        params = {"from_": from_, "to": to, "body": body}
        if self.status_callback:
            params["status_callback"] = self.status_callback

        async def create():
            with vendor_errors():
                return await self._messages.create_async(**params)

        message = await call_async(create, self.policy)
        return message.sid, message.status or "queued"

    async def close(self) -> None:
        http = self.twilio.http_client
        if hasattr(http, "close"):
            await http.close()
