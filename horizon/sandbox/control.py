"""The sandbox's own control API under /__sandbox__: inbound messages, faults, counters, reset,
and the decisions that belong to others (Meta's review of a WhatsApp display name)."""

from __future__ import annotations

import json
import mimetypes
import secrets
import time

import falcon

from horizon.sandbox.context import Sandbox
from horizon.sandbox.faults import FaultError
from horizon.sandbox.twilio_api import API_KEYS, API_VERSION, E164, new_sid, rfc2822
from horizon.sandbox.twilio_messages import MESSAGES, address_number, new_message
from horizon.sandbox.twilio_numbers import NUMBERS, seed_numbers
from horizon.sandbox.twilio_senders import SENDERS, decide_display_name, review_view
from horizon.sandbox.world import public

PREFIX = "/__sandbox__"


async def _json(req: falcon.Request) -> dict:
    raw = await req.stream.read()
    try:
        body = json.loads(raw or b"{}")
    except ValueError as error:
        raise falcon.HTTPBadRequest(description="the body must be a JSON object") from error
    if not isinstance(body, dict):
        raise falcon.HTTPBadRequest(description="the body must be a JSON object")
    return body


def _number(body: dict, name: str) -> str:
    value = address_number(str(body.get(name) or ""))
    if not E164.match(value):
        raise falcon.HTTPBadRequest(
            description=f"'{name}' must be an E.164 number like +34600000001"
        )
    return value


def _route_inbound(sandbox: Sandbox, to: str) -> tuple[str, dict]:
    """Where a message to `to` goes: ('whatsapp', sender webhook) or ('sms', number's URLs)."""
    sender = sandbox.world.find(SENDERS, sender_id=f"whatsapp:{to}")
    if sender is not None:
        webhook = sender["webhook"]
        return "whatsapp", {
            "url": webhook.get("callback_url"),
            "method": webhook.get("callback_method") or "POST",
            "fallback_url": webhook.get("fallback_url"),
            "fallback_method": webhook.get("fallback_method") or "POST",
        }
    number = sandbox.world.find(NUMBERS, phone_number=to)
    if number is not None and number["sms_application_sid"]:
        # Twilio then ignores the number's sms_*_url (the spec's SmsApplicationSid); where the
        # application or service would send it is not emulated, so the message goes nowhere.
        raise falcon.HTTPConflict(
            description=f"{to} hands its inbound messages to {number['sms_application_sid']} "
            "(sms_application_sid), not to its SmsUrl"
        )
    if number is not None:
        return "sms", {
            "url": number["sms_url"],
            "method": number["sms_method"],
            "fallback_url": number["sms_fallback_url"],
            "fallback_method": number["sms_fallback_method"],
        }
    raise falcon.HTTPNotFound(description=f"no WhatsApp sender or phone number {to} here")


def inbound_params(record: dict, channel: str, profile_name: str, media_urls: list[str]) -> dict:
    """The form Twilio POSTs to a messaging webhook for a received message."""
    params = {
        "AccountSid": record["account_sid"],
        "ApiVersion": API_VERSION,
        "Body": record["body"],
        "From": record["from"],
        "MessageSid": record["sid"],
        "NumMedia": str(len(media_urls)),
        "NumSegments": record["num_segments"],
        "SmsMessageSid": record["sid"],
        "SmsSid": record["sid"],
        "SmsStatus": "received",
        "To": record["to"],
    }
    for index, url in enumerate(media_urls):
        params[f"MediaUrl{index}"] = url
        params[f"MediaContentType{index}"] = (
            mimetypes.guess_type(url)[0] or "application/octet-stream"
        )
    if channel == "whatsapp":
        params["ProfileName"] = profile_name
        params["WaId"] = address_number(record["from"]).lstrip("+")
        params["MessageType"] = "image" if media_urls else "text"
        params["ReferralNumMedia"] = "0"
    return params


class Inbound:
    """POST /__sandbox__/inbound: a user writes to one of the account's numbers."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = await _json(req)
        sender, to = _number(body, "from"), _number(body, "to")
        channel, target = _route_inbound(self.sandbox, to)
        if not target["url"]:
            raise falcon.HTTPConflict(description=f"{to} has no inbound webhook URL configured")
        media = body.get("media_url") or []
        media_urls = [media] if isinstance(media, str) else [str(url) for url in media]
        prefix = "whatsapp:" if channel == "whatsapp" else ""
        record = new_message(
            self.sandbox,
            from_=f"{prefix}{sender}",
            to=f"{prefix}{to}",
            body=str(body.get("body") or ""),
            media_urls=media_urls,
            direction="inbound",
            status="received",
        )
        profile_name = str(body.get("profile_name") or "Sandbox User")
        params = inbound_params(record, channel, profile_name, media_urls)
        delivered = await self.sandbox.delivery.send(target["url"], params, target["method"])
        fallback = None
        if not delivered.ok and target["fallback_url"]:
            fallback = await self.sandbox.delivery.send(
                target["fallback_url"], params, target["fallback_method"]
            )
        resp.media = {
            "sid": record["sid"],
            "channel": channel,
            "message": public(record),
            "webhook": delivered.as_json(),
            "fallback": fallback.as_json() if fallback else None,
        }


class SentMessages:
    """GET /__sandbox__/messages: every message, both directions, oldest first."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        wanted = {name: req.get_param(name) for name in ("direction", "from", "to", "status")}
        messages = []
        for record in self.sandbox.world.all(MESSAGES):
            view = {
                "sid": record["sid"],
                "direction": record["direction"],
                "from": record["from"],
                "to": record["to"],
                "body": record["body"],
                "status": record["status"],
                "media_urls": record["_media_urls"],
                "date_created": record["date_created"],
            }
            if all(_same(view[name], value) for name, value in wanted.items() if value):
                messages.append(view)
        resp.media = {"messages": messages}


def _same(actual: str, wanted: str) -> bool:
    if wanted.startswith("+"):
        return address_number(actual) == wanted
    return actual == wanted


class Requests:
    """GET /__sandbox__/requests: vendor API calls received, by method and path template."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.sandbox.requests.snapshot()


class FaultControl:
    """GET / POST /__sandbox__/faults: show or change latency and failure injection."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.sandbox.faults.settings.as_json()

    async def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            settings = self.sandbox.faults.update(await _json(req))
        except FaultError as error:
            raise falcon.HTTPBadRequest(description=str(error)) from error
        resp.media = settings.as_json()


class NumberControl:
    """POST /__sandbox__/numbers: seed IncomingPhoneNumbers, since none can be bought here."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = await _json(req)
        numbers, handler = body.get("numbers"), body.get("sms_application_sid")
        if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
            raise falcon.HTTPBadRequest(description="'numbers' must be a list of E.164 numbers")
        try:
            records = seed_numbers(self.sandbox, numbers, handler)
        except ValueError as error:
            raise falcon.HTTPBadRequest(description=str(error)) from error
        resp.media = {"incoming_phone_numbers": records}


class ApiKeys:
    """POST /__sandbox__/keys: a Standard API key of the account, as the Console would make one.

    `{"friendly_name"?: "ci plan"}` answers 201 with Twilio's create body, `secret` included:
    like Twilio, that is the only time the secret is shown. Twilio's own Key resource
    (`/Keys`) is not emulated, and neither are Restricted keys' permissions.
    """

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        name = (await _json(req)).get("friendly_name")
        if name is not None and not (isinstance(name, str) and len(name) <= 64):
            raise falcon.HTTPBadRequest(description="'friendly_name' must be up to 64 characters")
        now = rfc2822(time.time())
        key = {
            "sid": new_sid("SK"),
            "friendly_name": name,
            "date_created": now,
            "date_updated": now,
            "_secret": secrets.token_hex(16),
        }
        self.sandbox.world.put(API_KEYS, key["sid"], key)
        resp.status = falcon.HTTP_201
        resp.media = {**public(key), "secret": key["_secret"]}


class DisplayNameReview:
    """GET / POST /__sandbox__/senders/{sid}/display_name: Meta's review of a new display name.

    POST `{"decision": "approved" | "declined", "reason": "NAME_FORMAT_UNACCEPTABLE"}` decides
    the name under review; GET shows the review as WhatsApp Manager would, Meta's reason
    included (the Senders API carries no reason).
    """

    DECISIONS = ("approved", "declined")

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def _record(self, sid: str) -> dict:
        record = self.sandbox.world.get(SENDERS, sid)
        if record is None:
            raise falcon.HTTPNotFound(description=f"no WhatsApp sender {sid} here")
        return record

    async def on_get(self, req: falcon.Request, resp: falcon.Response, sid: str) -> None:
        resp.media = review_view(self._record(sid))

    async def on_post(self, req: falcon.Request, resp: falcon.Response, sid: str) -> None:
        body = await _json(req)
        decision, reason = body.get("decision"), body.get("reason") or "UNKNOWN"
        if decision not in self.DECISIONS:
            raise falcon.HTTPBadRequest(description="'decision' must be 'approved' or 'declined'")
        if not isinstance(reason, str):
            raise falcon.HTTPBadRequest(description="'reason' must be a string")
        try:
            record = decide_display_name(self.sandbox, self._record(sid), decision, reason)
        except ValueError as error:
            raise falcon.HTTPConflict(description=str(error)) from error
        resp.media = review_view(record)


class Reset:
    """POST /__sandbox__/reset: an empty world, with the command line's numbers and faults."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.sandbox.reset()
        seed_numbers(self.sandbox, list(self.sandbox.options.numbers))
        resp.media = {"reset": True}


class Health:
    """GET /__sandbox__/health: the sandbox is up and which account it emulates."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"ok": True, "account_sid": self.sandbox.options.account_sid}
