"""Twilio's two webhooks: inbound messages (stored, then acknowledged) and delivery statuses."""

from __future__ import annotations

import re
import time
from typing import Protocol

import falcon
from falcon.asgi import Request, Response
from sqlalchemy.exc import SQLAlchemyError

from horizon.config.client import Client
from horizon.store.aio import AsyncStore
from horizon.store.records import InboundMessage, Media
from horizon.telemetry.logs import log_event
from horizon.telemetry.metrics import Metrics
from horizon.webhook.live_config import LiveConfig
from horizon.webhook.twilio_requests import SignatureCheck, required, twilio_signed

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_MEDIA = 10
REJECTED = "(rejected)"  # the client label of requests refused before they could be routed
_ADDRESS = re.compile(r"^(?:whatsapp:)?\+?[0-9]{4,15}$")
_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
# What an operator can do about a delivery error (https://www.twilio.com/docs/api/errors).
DELIVERY_HINTS = {
    "63016": "outside WhatsApp's 24-hour window: the user must write again before a free-form "
    "reply can reach them (or send an approved template)",
}


class Notifier(Protocol):
    """What the inbound webhook tells about a stored message: the worker's `notify`."""

    def notify(self, client_id: str, user_number: str) -> None: ...


def _number(address: str, field: str) -> str:
    if not _ADDRESS.match(address):
        raise falcon.HTTPBadRequest(description=f"{field} is not a phone address: {address!r}")
    return address.removeprefix("whatsapp:")


def _media(form: dict[str, str]) -> tuple[Media, ...]:
    try:
        count = int(form.get("NumMedia") or 0)
    except ValueError:
        raise falcon.HTTPBadRequest(description="NumMedia is not a number") from None
    if not 0 <= count <= MAX_MEDIA:
        raise falcon.HTTPBadRequest(description=f"NumMedia must be 0 to {MAX_MEDIA}")
    return tuple(
        Media(form.get(f"MediaUrl{i}", ""), form.get(f"MediaContentType{i}") or "unknown/unknown")
        for i in range(count)
    )


class InboundResource:
    """POST /twilio/inbound: validate, route by To, store durably (de-duplicated), ack at once."""

    def __init__(
        self,
        signature: SignatureCheck,
        live_config: LiveConfig,
        store: AsyncStore,
        worker: Notifier | None,
        metrics: Metrics,
    ) -> None:
        self.signature, self.live_config, self.store = signature, live_config, store
        self.worker, self.metrics = worker, metrics

    def rejected(self, error: falcon.HTTPError) -> None:
        # Before the signature is checked nothing in the request can be trusted, the
        # client included: rejections are counted apart from every client.
        self.metrics.inbound.labels(REJECTED, "rejected").inc()
        log_event("inbound_rejected", level=30, status=error.status, reason=error.description)

    @falcon.before(twilio_signed)
    async def on_post(self, req: Request, resp: Response) -> None:
        started = time.perf_counter()
        try:
            message, client = self._read(req.context.form)
        except falcon.HTTPError as error:
            self.rejected(error)
            raise
        try:
            stored = await self.store.queue.record_inbound(message)
        except SQLAlchemyError as error:
            # Never acknowledge what is not stored: a 5xx lets Twilio retry (as the URL's
            # connection overrides say) or call the fallback URL, instead of losing it.
            log_event("inbound_store_failed", level=40, sid=message.sid, error=str(error)[:300])
            raise falcon.HTTPServiceUnavailable(
                description="the message could not be stored; try again", retry_after=1
            ) from None
        outcome = "duplicate" if not stored else ("stored" if client else "unrouted")
        user, number = message.user_number, message.client_number
        if stored and client and self.worker is not None:
            self.worker.notify(client.id, user)
        resp.content_type = "text/xml"
        resp.text = EMPTY_TWIML
        label = client.id if client else "(unrouted)"
        self.metrics.inbound.labels(label, outcome).inc()
        self.metrics.ack_seconds.observe(time.perf_counter() - started)
        log_event(
            f"inbound_{outcome}",
            level=30 if outcome == "unrouted" else 20,
            client=client.id if client else None,
            sid=message.sid,
            user=user,
            to=number,
            media=len(message.media) or None,
        )

    def _read(self, form: dict[str, str]) -> tuple[InboundMessage, Client | None]:
        """The well-formed message in a signed form and its client; else a 4xx."""
        sid, from_, to = required(form, "MessageSid", "From", "To")
        if not _SID.match(sid):
            raise falcon.HTTPBadRequest(description=f"MessageSid is not a Twilio sid: {sid!r}")
        user, number = _number(from_, "From"), _number(to, "To")
        client = self.live_config.fleet.route(number)
        message = InboundMessage(
            sid=sid,
            user_number=user,
            client_number=number,
            channel="whatsapp" if to.startswith("whatsapp:") else "sms",
            body=form.get("Body", ""),
            client_id=client.id if client else None,
            media=_media(form),
            received_at=time.time(),
        )
        return message, client


class StatusResource:
    """POST /twilio/status: a delivery status for an outbound part; never reaches the model."""

    def __init__(self, signature: SignatureCheck, store: AsyncStore, metrics: Metrics) -> None:
        self.signature, self.store, self.metrics = signature, store, metrics

    @falcon.before(twilio_signed)
    async def on_post(self, req: Request, resp: Response) -> None:
        form = req.context.form
        sid, status = required(form, "MessageSid", "MessageStatus")
        status = status.lower()
        error = form.get("ErrorCode") or None
        known = await self.store.replies.update_status(sid, status, error)
        self.metrics.statuses.labels(status).inc()
        failed = status in ("failed", "undelivered")
        if failed:
            # Final: Twilio does not retry a failed delivery, and neither does Horizon.
            self.metrics.delivery_errors.labels(error or "none").inc()
        log_event(
            "delivery_status",
            sid=sid,
            status=status,
            error=error,
            hint=DELIVERY_HINTS.get(error or "") if failed else None,
            known=known or None,
            level=30 if failed else 20,
        )
        resp.status = falcon.HTTP_204
