"""Twilio Messaging v2 Channels Senders (WhatsApp): create, fetch, list, update, delete.

A new sender reports CREATING until `sender_online_after` seconds have passed, then
ONLINE; the status is derived from the creation time, so it survives restarts.
In request bodies a null means "not given" (the SDK sends nulls for unset fields).
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
    new_sid,
    not_found,
    query_form,
)
from horizon.sandbox.world import public

SENDERS = "senders"
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
    return {
        **public(record),
        "status": sender_status(record),
        "url": f"{base_url}/v2/Channels/Senders/{record['sid']}",
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


def update_sender(sandbox: Sandbox, record: dict, body: dict) -> dict:
    changes = {
        "configuration": _configuration(record["configuration"], _object(body, "configuration")),
        "webhook": merge_webhook(record["webhook"], _object(body, "webhook")),
        "profile": merge_profile(record["profile"], _object(body, "profile")),
    }
    if body.get("friendly_name") is not None:
        if len(str(body["friendly_name"])) > 64:
            raise invalid("friendly_name must be at most 64 characters", code=20001)
        changes["friendly_name"] = str(body["friendly_name"])
    return sandbox.world.put(SENDERS, record["sid"], {**record, **changes})


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
        records = [
            record
            for record in self.sandbox.world.all(SENDERS)
            if not channel or record["sender_id"].startswith(f"{channel.lower()}:")
        ]
        page = cut_page(records, query)
        base = f"{req.prefix}{req.path}"
        filters = [("Channel", channel)] if channel else []

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
        updated = update_sender(self.sandbox, record, await _json_body(req))
        resp.media = render(updated, req.prefix)

    async def on_delete(self, req: falcon.Request, resp: falcon.Response, Sid: str) -> None:
        self._record(req, Sid)
        self.sandbox.world.delete(SENDERS, Sid)
        resp.status = falcon.HTTP_204
