"""Twilio Messaging v2 Channels Senders (WhatsApp): create, fetch, list, update, delete.

A new sender reports CREATING until `sender_online_after` seconds have passed, then
ONLINE; the status is derived from the creation time, so it survives restarts.
In request bodies a null means "not given" (the SDK sends nulls for unset fields).
A new display name goes to Meta's review (decided through the control API), as the
SDK 9.13 docstrings of `profile.name`, `pending_display_name*` and `display_name_status`
describe it (twilio/rest/messaging/v2/channels_sender.py).
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

import falcon

from horizon.sandbox.context import Sandbox
from horizon.sandbox.twilio_api import (
    E164,
    TwilioError,
    cut_page,
    invalid,
    iso8601,
    new_sid,
    not_found,
    query_form,
)
from horizon.sandbox.world import public

SENDERS = "senders"
# The list's Channel: required by the spec (tests/contracts/twilio/messaging_v2.json, though
# the SDK leaves it optional), with the values its description names.
CHANNELS = ("whatsapp", "rcs")
IN_REVIEW = "PENDING_REVIEW"
# "A COMPLETED change is reported for 14 days after it completes and is absent afterwards."
COMPLETED_SHOWN_FOR = 14 * 86400.0
REVIEW_FIELDS = (
    "pending_display_name",
    "pending_display_name_status",
    "pending_display_name_status_date",
)
WEBHOOK_FIELDS = (
    "callback_url",
    "callback_method",
    "fallback_url",
    "fallback_method",
    "status_callback_url",
    "status_callback_method",
)
PROFILE_TEXT_FIELDS = (
    "name",
    "about",
    "address",
    "description",
    "logo_url",
    "banner_url",
    "privacy_url",
    "terms_of_service_url",
    "accent_color",
    "vertical",
)
# List fields of a profile and the key each item's value goes under in responses.
PROFILE_LIST_FIELDS = {"emails": "email", "websites": "website", "phone_numbers": "phone_number"}
LIST_LABELS = {"emails": "Email", "websites": "Website", "phone_numbers": "Phone"}
VERTICALS = {
    "Alcohol", "Automotive", "Beauty, Spa and Salon", "Clothing and Apparel", "Education",
    "Entertainment", "Event Planning and Service", "Finance and Banking", "Food and Grocery",
    "Hotel and Lodging", "Matrimony Service", "Medical and Health", "Non-profit",
    "Online Gambling", "OTC Drugs", "Other", "Physical Gambling", "Professional Services",
    "Public Service", "Restaurant", "Shopping and Retail", "Travel and Transportation",
}  # fmt: skip


def sender_status(record: dict, now: float | None = None) -> str:
    return "ONLINE" if (now or time.time()) >= record["_online_at"] else "CREATING"


def render(record: dict, base_url: str) -> dict:
    shown = public(record)
    completed = record.get("pending_display_name_status") == "COMPLETED"
    if completed and time.time() - record["_review_changed"] > COMPLETED_SHOWN_FOR:
        for name in REVIEW_FIELDS:
            shown.pop(name)  # the three are always present or absent together
    return {
        **shown,
        "status": sender_status(record),
        "url": f"{base_url}/v2/Channels/Senders/{record['sid']}",
    }


def review(name: str, status: str, now: float) -> dict:
    """The pending_display_name* fields (absent until a first name change) and their time."""
    fields = dict(zip(REVIEW_FIELDS, (name, status, iso8601(now)), strict=True))
    return {**fields, "_review_changed": now, "_rejection_reason": None}


def submit_display_name(record: dict, name: object) -> tuple[dict, str | None]:
    """What an update's `profile.name` does: the review fields to store, and the answer's
    `display_name_status` (None when the request carried no name)."""
    if name is None:
        return {}, None
    if not isinstance(name, str) or not name.strip():
        raise invalid("Invalid profile.name: a display name cannot be empty", code=20001)
    status = record.get("pending_display_name_status")
    if status == IN_REVIEW and name == record["pending_display_name"]:
        return {}, "pending_review"
    if status == IN_REVIEW:
        # https://www.twilio.com/docs/api/errors/63128: one change in flight per number.
        raise TwilioError(
            409, 63128, "A display name change is already in progress for this sender"
        )
    if name == record["profile"].get("name"):
        return {}, "no_change"
    return review(name, IN_REVIEW, time.time()), "updating"


def decide_display_name(sandbox: Sandbox, record: dict, decision: str, reason: str) -> dict:
    """Meta's decision on the name under review; raises ValueError when none is.

    Approval is followed at Twilio by the sender's re-registration; here both happen at once
    and the change is COMPLETED, when `profile.name` returns the new name. A decline keeps
    Meta's reason in the sandbox's own bookkeeping: no sender field carries it, and Twilio
    says it "can't retrieve or display the rejection reason from Meta"
    (https://www.twilio.com/docs/api/errors/63060).
    """
    if record.get("pending_display_name_status") != IN_REVIEW:
        raise ValueError(f"sender {record['sid']} has no display name under review")
    name, now = record["pending_display_name"], time.time()
    if decision == "approved":
        changes = {"profile": {**record["profile"], "name": name}, **review(name, "COMPLETED", now)}
    else:
        changes = {**review(name, "DECLINED", now), "_rejection_reason": reason}
    return sandbox.world.put(SENDERS, record["sid"], {**record, **changes})


def review_view(record: dict) -> dict:
    """The display-name review as Meta shows it (WhatsApp Manager), reason included."""
    view = {name: record.get(name) for name in REVIEW_FIELDS}
    return {
        "sid": record["sid"],
        "sender_id": record["sender_id"],
        "name": record["profile"].get("name"),
        **view,
        "rejection_reason": record.get("_rejection_reason"),
    }


def _object(body: dict, name: str) -> dict:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid(f"Invalid {name}: expected an object", code=20001)
    return value


def merge_webhook(current: dict, given: dict) -> dict:
    webhook = {name: current.get(name) for name in WEBHOOK_FIELDS}
    for name in WEBHOOK_FIELDS:
        value = given.get(name)
        if value is None:
            continue
        if name.endswith("_method") and str(value).upper() not in ("GET", "POST", "PUT"):
            raise invalid(f"Invalid webhook.{name}: {value}", code=20001)
        if name.endswith("_url") and value and not str(value).startswith(("http://", "https://")):
            raise invalid(f"Invalid webhook.{name}: {value}", code=20001)
        webhook[name] = str(value).upper() if name.endswith("_method") else value
    for method, url in (("callback_method", "callback_url"), ("fallback_method", "fallback_url")):
        if webhook[url] and not webhook[method]:
            webhook[method] = "POST"
    if webhook["status_callback_url"] and not webhook["status_callback_method"]:
        webhook["status_callback_method"] = "POST"
    return webhook


def merge_profile(current: dict, given: dict) -> dict:
    profile = dict(current)
    for name in PROFILE_TEXT_FIELDS:
        if given.get(name) is not None:
            profile[name] = str(given[name])
    if profile.get("vertical") and profile["vertical"] not in VERTICALS:
        raise invalid(f"Invalid profile.vertical: {profile['vertical']}", code=20001)
    for name, key in PROFILE_LIST_FIELDS.items():
        if given.get(name) is not None:
            profile[name] = _labelled_list(name, key, given[name])
    return profile


def _labelled_list(name: str, key: str, items: object) -> list[dict]:
    """Accept ['a@b'] or [{'email': 'a@b', 'label': …}]; answer the labelled form."""
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list):
        raise invalid(f"Invalid profile.{name}: expected a list", code=20001)
    labelled = []
    for item in items:
        if isinstance(item, str):
            labelled.append({key: item, "label": LIST_LABELS[name]})
        elif isinstance(item, dict) and isinstance(item.get(key), str):
            labelled.append({key: item[key], "label": item.get("label") or LIST_LABELS[name]})
        else:
            raise invalid(f"Invalid profile.{name} item: {item!r}", code=20001)
    return labelled


def create_sender(sandbox: Sandbox, body: dict) -> dict:
    sender_id = body.get("sender_id")
    if not isinstance(sender_id, str) or not sender_id.startswith("whatsapp:"):
        raise invalid("sender_id must be in the form whatsapp:<E.164 number>", code=20001)
    if not E164.match(sender_id.removeprefix("whatsapp:")):
        raise invalid(f"Invalid sender_id: {sender_id}", code=20001)
    if sandbox.world.find(SENDERS, sender_id=sender_id) is not None:
        raise TwilioError(409, 20409, f"A sender with sender_id {sender_id} already exists")
    profile = merge_profile({}, _object(body, "profile"))
    if not profile.get("name"):
        raise invalid("profile.name is required for WhatsApp senders", code=20001)
    now = time.time()
    record = {
        "sid": new_sid("XE"),
        "sender_id": sender_id,
        "friendly_name": body.get("friendly_name"),
        "configuration": _configuration({}, _object(body, "configuration")),
        "webhook": merge_webhook({}, _object(body, "webhook")),
        "profile": profile,
        "properties": {"quality_rating": "HIGH", "messaging_limit": "1K Customers/24hr"},
        "offline_reasons": None,
        "compliance": None,
        "_created": now,
        "_online_at": now + sandbox.options.sender_online_after,
    }
    return sandbox.world.put(SENDERS, record["sid"], record)


def _configuration(current: dict, given: dict) -> dict:
    names = ("waba_id", "verification_method", "verification_code", "voice_application_sid")
    configuration = {name: current.get(name) for name in names}
    configuration.update({k: v for k, v in given.items() if k in names and v is not None})
    return configuration


def update_sender(sandbox: Sandbox, record: dict, body: dict) -> tuple[dict, str | None]:
    """The updated sender, and the answer's `display_name_status` (None: no name was given)."""
    profile = dict(_object(body, "profile"))
    reviewed, display_name_status = submit_display_name(record, profile.pop("name", None))
    changes = {
        "configuration": _configuration(record["configuration"], _object(body, "configuration")),
        "webhook": merge_webhook(record["webhook"], _object(body, "webhook")),
        "profile": merge_profile(record["profile"], profile),
        **reviewed,
    }
    if body.get("friendly_name") is not None:
        if len(str(body["friendly_name"])) > 64:
            raise invalid("friendly_name must be at most 64 characters", code=20001)
        changes["friendly_name"] = str(body["friendly_name"])
    updated = sandbox.world.put(SENDERS, record["sid"], {**record, **changes})
    return updated, display_name_status


async def _json_body(req: falcon.Request) -> dict:
    try:
        body = await req.get_media()
    except falcon.MediaMalformedError as error:
        raise invalid("The request body is not valid JSON", code=20001) from error
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object", code=20001)
    return body


class Senders:
    """/v2/Channels/Senders"""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        record = create_sender(self.sandbox, await _json_body(req))
        resp.status = falcon.HTTP_202
        resp.media = render(record, req.prefix)

    async def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = query_form(req)
        channel = query.get("Channel")
        if not channel:
            # Required in the spec; Twilio answers a missing required parameter with a 400
            # (https://www.twilio.com/docs/api/errors/400).
            raise invalid("Missing required parameter Channel in the query string", code=20001)
        if channel not in CHANNELS:
            raise invalid(f"Invalid Channel: {channel}", code=20001)
        records = [
            record
            for record in self.sandbox.world.all(SENDERS)
            if record["sender_id"].startswith(f"{channel}:")
        ]
        page = cut_page(records, query)
        base = f"{req.prefix}{req.path}"
        filters = [("Channel", channel)]

        def link(number: int, token: str | None) -> str:
            params = [*filters, ("PageSize", page.size), ("Page", max(0, number))]
            return f"{base}?{urlencode(params + ([('PageToken', token)] if token else []))}"

        resp.media = {
            "senders": [render(record, req.prefix) for record in page.records],
            "meta": {
                "page": page.number,
                "page_size": page.size,
                "first_page_url": link(0, None),
                "previous_page_url": link(page.number - 1, page.previous_token)
                if page.previous_token
                else None,
                "url": link(page.number, query.get("PageToken")),
                "next_page_url": link(page.number + 1, page.next_token)
                if page.next_token
                else None,
                "key": "senders",
            },
        }


class Sender:
    """/v2/Channels/Senders/{Sid}"""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def _record(self, req: falcon.Request, sid: str) -> dict:
        record = self.sandbox.world.get(SENDERS, sid)
        if record is None:
            raise not_found(req.path)
        return record

    async def on_get(self, req: falcon.Request, resp: falcon.Response, Sid: str) -> None:
        resp.media = render(self._record(req, Sid), req.prefix)

    async def on_post(self, req: falcon.Request, resp: falcon.Response, Sid: str) -> None:
        record = self._record(req, Sid)
        updated, display_name_status = update_sender(self.sandbox, record, await _json_body(req))
        resp.status = falcon.HTTP_202  # the spec's only success answer to an update
        resp.media = render(updated, req.prefix)
        if display_name_status is not None:
            resp.media["display_name_status"] = display_name_status

    async def on_delete(self, req: falcon.Request, resp: falcon.Response, Sid: str) -> None:
        self._record(req, Sid)
        self.sandbox.world.delete(SENDERS, Sid)
        resp.status = falcon.HTTP_204
