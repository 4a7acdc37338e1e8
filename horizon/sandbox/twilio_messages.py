"""Twilio Messages (2010 API) and the WhatsApp typing indicator (Messaging v2).

An outbound message is answered `queued` at once; a background task then moves it to
`sent` and `delivered`, POSTing each transition, signed, to its status callback.

A WhatsApp message to a user whose last message to that sender is older than 24 hours
(or who never wrote) is accepted and then fails with error 63016, as Twilio reports it:
asynchronously, in the message's status and its status callback
(https://www.twilio.com/docs/api/errors/63016: "failed to be delivered … outside the
allowed window"; no source shows a synchronous rejection, and a client that handles the
asynchronous failure also handles a synchronous one).
"""

from __future__ import annotations

import asyncio
import math
import time

import falcon

from horizon.sandbox.context import Sandbox
from horizon.sandbox.twilio_api import (
    API_VERSION,
    E164,
    Form,
    TwilioError,
    invalid,
    list_2010,
    new_sid,
    not_found,
    query_form,
    read_form,
    rfc2822,
)
from horizon.sandbox.twilio_numbers import NUMBERS
from horizon.sandbox.twilio_senders import SENDERS
from horizon.sandbox.world import public

MESSAGES = "messages"
# When each (user, sender) pair last wrote: the start of WhatsApp's 24-hour window.
WINDOWS = "whatsapp_windows"
WHATSAPP = "whatsapp:"
MAX_BODY = 1600
WINDOW_SECONDS = 24 * 3600
OUTSIDE_WINDOW = (
    63016,
    "Failed to send freeform message because you are outside the allowed window. "
    "If you are using WhatsApp, please use a Message Template.",
)


def body_length(body: str) -> int:
    """A body's length as Twilio counts it against 1,600: in UTF-16 code units.

    Twilio's docs say emoji "will be counted as multiple characters if they have a higher
    byte count" (https://www.twilio.com/docs/api/errors/21617) without naming the unit;
    UTF-16, where an emoji outside the BMP counts 2, is the stricter of the readings
    that match the documented examples.
    """
    return len(body.encode("utf-16-le")) // 2


def address_number(address: str) -> str:
    """'whatsapp:+34600…' or '+34600…' -> '+34600…'."""
    return address[len(WHATSAPP) :] if address.startswith(WHATSAPP) else address


def new_message(sandbox: Sandbox, **fields: object) -> dict:
    """Store a message record; `fields` are from_, to, body, direction, status, media_urls…"""
    account_sid = sandbox.options.account_sid
    sid = new_sid("SM")
    now = time.time()
    body = str(fields.get("body") or "")
    media_urls = list(fields.get("media_urls") or [])
    uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}"
    record = {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": body,
        "date_created": rfc2822(now),
        "date_sent": rfc2822(now) if fields["direction"] == "inbound" else None,
        "date_updated": rfc2822(now),
        "direction": fields["direction"],
        "error_code": None,
        "error_message": None,
        "from": fields["from_"],
        "messaging_service_sid": fields.get("messaging_service_sid"),
        "num_media": str(len(media_urls)),
        "num_segments": str(max(1, math.ceil(len(body) / 160))),
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": fields["status"],
        "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
        "to": fields["to"],
        "uri": f"{uri}.json",
        "_created": now,
        "_media_urls": media_urls,
        "_status_callback": fields.get("status_callback"),
    }
    if fields["direction"] == "inbound" and record["from"].startswith(WHATSAPP):
        sandbox.world.put(WINDOWS, _window_key(record["from"], record["to"]), {"since": now})
    return sandbox.world.put(MESSAGES, sid, record)


def _window_key(user: str, sender: str) -> str:
    return f"{address_number(user)}>{address_number(sender)}"


def _outside_window(sandbox: Sandbox, record: dict) -> bool:
    """A WhatsApp message to a user who has not written to this sender in 24 hours."""
    if not record["to"].startswith(WHATSAPP):
        return False
    window = sandbox.world.get(WINDOWS, _window_key(record["to"], record["from"]))
    return window is None or record["_created"] - window["since"] > WINDOW_SECONDS


def _validate_create(sandbox: Sandbox, form: Form) -> None:
    to, from_ = form.get("To") or "", form.get("From") or ""
    body, media = form.get("Body") or "", form.getall("MediaUrl")
    if not to:
        raise invalid("A 'To' phone number is required.", code=21604)
    if not from_ and not form.get("MessagingServiceSid"):
        raise invalid("A 'From' phone number is required.", code=21603)
    if not body and not media and not form.get("ContentSid"):
        raise invalid("Message body is required.", code=21602)
    if body_length(body) > MAX_BODY:
        raise invalid("The concatenated message body exceeds the 1600 character limit.", code=21617)
    if not E164.match(address_number(to)):
        raise invalid(f"Invalid 'To' Phone Number: {to}", code=21211)
    callback = form.get("StatusCallback")
    if callback and not callback.startswith(("http://", "https://")):
        raise invalid(f"Invalid StatusCallback url: {callback}", code=21609)
    if from_:
        _validate_sender(sandbox, from_, to)


def _validate_sender(sandbox: Sandbox, from_: str, to: str) -> None:
    if from_.startswith(WHATSAPP) != to.startswith(WHATSAPP):
        raise invalid(
            "Invalid From and To pair. From and To should be of the same channel", code=21910
        )
    if from_.startswith(WHATSAPP):
        if sandbox.world.find(SENDERS, sender_id=from_) is None:
            raise invalid(
                "Twilio could not find a Channel with the specified From address", code=63007
            )
    elif sandbox.world.find(NUMBERS, phone_number=from_) is None:
        raise invalid(
            f"The 'From' number {from_} is not a valid message-capable Twilio phone number "
            "for this destination.",
            code=21606,
        )


def _status_callback(sandbox: Sandbox, form: Form) -> str | None:
    """The message's own StatusCallback, else its WhatsApp sender's status_callback_url."""
    if form.get("StatusCallback"):
        return form.get("StatusCallback")
    sender = sandbox.world.find(SENDERS, sender_id=form.get("From"))
    if sender is not None:
        return (sender.get("webhook") or {}).get("status_callback_url") or None
    return None


def callback_params(record: dict) -> dict[str, str]:
    """The form Twilio POSTs to a status callback."""
    params = {
        "AccountSid": record["account_sid"],
        "ApiVersion": API_VERSION,
        "From": record["from"],
        "MessageSid": record["sid"],
        "MessageStatus": record["status"],
        "SmsSid": record["sid"],
        "SmsStatus": record["status"],
        "To": record["to"],
    }
    if record["to"].startswith(WHATSAPP):
        params["ChannelPrefix"] = "whatsapp"
        params["ChannelToAddress"] = address_number(record["to"])
        params["StructuredMessage"] = "false"
    if record.get("messaging_service_sid"):
        params["MessagingServiceSid"] = record["messaging_service_sid"]
    if record.get("error_code"):
        # Twilio sends the code with an empty ErrorMessage (observed by integrators).
        params["ErrorCode"] = str(record["error_code"])
    return params


async def run_lifecycle(sandbox: Sandbox, sid: str) -> None:
    """queued -> sent -> delivered (or failed), one status callback per transition, in order."""
    record = sandbox.world.get(MESSAGES, sid)
    outside = record is not None and _outside_window(sandbox, record)
    for status in ("failed",) if outside else ("sent", "delivered"):
        await asyncio.sleep(sandbox.options.status_step)
        record = sandbox.world.get(MESSAGES, sid)
        if record is None:  # the world was reset meanwhile
            return
        now = rfc2822(time.time())
        changes: dict = {"status": status, "date_updated": now}
        if status == "sent":
            changes["date_sent"] = now
        if status == "failed":
            changes["error_code"], changes["error_message"] = OUTSIDE_WINDOW
        record = sandbox.world.put(MESSAGES, sid, {**record, **changes})
        if record["_status_callback"]:
            await sandbox.delivery.send(record["_status_callback"], callback_params(record))


def _matches(record: dict, query: Form) -> bool:
    for param, field_name in (("To", "to"), ("From", "from")):
        wanted = query.get(param)
        if wanted and record[field_name] != wanted:
            return False
    sent_day = time.strftime("%Y-%m-%d", time.gmtime(record["_created"]))
    exact, before, after = query.get("DateSent"), query.get("DateSent<"), query.get("DateSent>")
    if exact and sent_day != exact[:10]:
        return False
    if before and sent_day > before[:10]:
        return False
    return not (after and sent_day < after[:10])


class Messages:
    """/2010-04-01/Accounts/{AccountSid}/Messages.json"""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_post(self, req: falcon.Request, resp: falcon.Response, AccountSid: str) -> None:
        form = await read_form(req)
        _validate_create(self.sandbox, form)
        record = new_message(
            self.sandbox,
            from_=form.get("From") or "",
            to=form.get("To"),
            body=form.get("Body"),
            media_urls=form.getall("MediaUrl"),
            direction="outbound-api",
            status="queued",
            messaging_service_sid=form.get("MessagingServiceSid"),
            status_callback=_status_callback(self.sandbox, form),
        )
        self.sandbox.delivery.spawn(run_lifecycle(self.sandbox, record["sid"]))
        resp.status = falcon.HTTP_201
        resp.media = public(record)

    async def on_get(self, req: falcon.Request, resp: falcon.Response, AccountSid: str) -> None:
        query = query_form(req)
        newest_first = self.sandbox.world.all(MESSAGES)[::-1]
        records = [record for record in newest_first if _matches(record, query)]
        filters = ("To", "From", "DateSent", "DateSent<", "DateSent>")
        resp.media = list_2010(req, MESSAGES, records, filters)


class Message:
    """/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json"""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_get(self, req, resp, AccountSid: str, Sid: str) -> None:
        record = self.sandbox.world.get(MESSAGES, Sid)
        if record is None:
            raise not_found(req.path)
        resp.media = public(record)


class TypingIndicator:
    """/v2/Indicators/Typing.json: show 'typing…' in reply to a received WhatsApp message."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = await read_form(req)
        channel, message_id = form.get("channel"), form.get("messageId")
        if channel != "whatsapp":
            raise invalid("channel must be 'whatsapp'", code=20001)
        if not message_id:
            raise invalid("messageId is required", code=20001)
        if self.sandbox.world.get(MESSAGES, message_id) is None:
            raise TwilioError(404, 20404, f"Message {message_id} was not found")
        resp.media = {"success": True}
