"""Twilio WhatsApp senders (Messaging v2 /v2/Channels/Senders): webhook, profile and mark.

One sender per `channel: whatsapp` client, keyed `whatsapp:+E164`. Its `friendly_name` is
Horizon's ownership mark, `horizon:<client-id>`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from horizon.config.client import Client
from horizon.config.fleet import Fleet
from horizon.endpoints import inbound_url, status_url
from horizon.reconcile.fields import normalise
from horizon.reconcile.provider import Applied, ByAction
from horizon.reconcile.resources import Change, Resource, mark, owner_of
from horizon.vendors.errors import AlreadyExists, VendorError, vendor_errors
from horizon.vendors.retry import DEFAULT_POLICY, RetryPolicy, twilio_records, vendor_call

KIND = "whatsapp_sender"
PAGE_SIZE = 1000  # the most Twilio serves per page
WEBHOOK_KEYS = ("callback_url", "callback_method", "status_callback_url", "status_callback_method")
PROFILE_TEXT = ("name", "about", "description", "address", "vertical")
PROFILE_LISTS = {"emails": ("email", "Email"), "websites": ("website", "Website")}
LIST_ITEMS = tuple(PROFILE_LISTS.items())
# Meta reviews a new display name; until it is applied, `profile.name` still shows the old one.
NAME_UNDER_REVIEW = ("PENDING_REVIEW", "APPROVED")

WHAT_TO_DO = {
    "CREATING": "Twilio is registering it with WhatsApp; nothing to do yet, check again "
    "in a few minutes with `horizon reconcile --dry-run`.",
    "PENDING_VERIFICATION": "verify the number: enter the code WhatsApp sent to it by SMS or "
    "voice call in the Twilio Console (Messaging > Senders > WhatsApp senders).",
    "VERIFYING": "WhatsApp is checking the verification code; nothing to do yet.",
    "TWILIO_REVIEW": "Twilio is reviewing the sender; wait for their e-mail.",
    "ONLINE:UPDATING": "a profile change is being applied; nothing to do.",
    "OFFLINE": "it cannot send or receive: see its offline reasons in the Twilio Console.",
    "DRAFT": "registration was not submitted: finish it in the Twilio Console.",
    "STUBBED": "registration was not submitted: finish it in the Twilio Console.",
}


def sender_id(client: Client) -> str:
    return f"whatsapp:{client.number}"


def webhook_fields(public_url: str) -> dict[str, str]:
    return {
        "callback_url": inbound_url(public_url),
        "callback_method": "POST",
        "status_callback_url": status_url(public_url),
        "status_callback_method": "POST",
    }


def desired_sender(client: Client, public_url: str) -> Resource:
    """The sender `client` asks for (enabled or not: a paused client keeps its sender)."""
    profile = client.profile
    fields = {
        "friendly_name": mark(client.id),
        "webhook": webhook_fields(public_url),
        "profile": {
            "name": client.name,
            "about": profile.about,
            "description": profile.description,
            "address": profile.address,
            "vertical": profile.vertical,
            "emails": list(profile.emails),
            "websites": list(profile.websites),
        },
    }
    return Resource(KIND, sender_id(client), client.id, normalise(fields))


def status_notice(status: str | None) -> str | None:
    """What the operator must do about a sender that is not ONLINE; None when it is."""
    if not status or status == "ONLINE":
        return None
    advice = WHAT_TO_DO.get(status, "check it in the Twilio Console.")
    return f"sender is {status}, not ONLINE: {advice}"


def observed_sender(record: Any) -> Resource:
    """A listed sender as a Resource: managed fields only, in the desired form."""
    webhook = record.webhook or {}
    profile = dict(record.profile or {})
    notices = [status_notice(record.status)]
    pending = getattr(record, "pending_display_name", None)
    pending_status = getattr(record, "pending_display_name_status", None)
    if pending and pending_status in NAME_UNDER_REVIEW:
        profile["name"] = pending
        notices.append(f'display name "{pending}" awaits WhatsApp\'s review ({pending_status}).')
    elif pending and pending_status == "DECLINED":
        notices.append(f'WhatsApp declined the display name "{pending}"; choose another name.')
    fields = {
        "friendly_name": record.friendly_name,
        "webhook": {
            name: (str(webhook.get(name)).upper() if name.endswith("method") else webhook.get(name))
            for name in WEBHOOK_KEYS
            if webhook.get(name)
        },
        "profile": {
            **{name: profile.get(name) for name in PROFILE_TEXT},
            **{name: _plain_list(profile.get(name), key) for name, (key, _) in LIST_ITEMS},
        },
    }
    return Resource(
        KIND,
        record.sender_id,
        owner_of(record.friendly_name),
        normalise(fields),
        remote_id=record.sid,
        label=record.friendly_name,
        status=record.status,
        notice=" ".join(notice for notice in notices if notice) or None,
    )


def _plain_list(items: Any, key: str) -> list[str]:
    """Twilio answers [{'email': …, 'label': …}]; the label is Twilio's, not ours to compare."""
    values = []
    for item in items or []:
        value = item.get(key) if isinstance(item, dict) else item
        if value:
            values.append(str(value))
    return values


def profile_payload(profile: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """The profile fields `names` as the API takes them; a field gone from git is cleared."""
    payload: dict[str, Any] = {}
    for name in names:
        if name in PROFILE_LISTS:
            key, label = PROFILE_LISTS[name]
            payload[name] = [{key: value, "label": label} for value in profile.get(name, [])]
        else:
            payload[name] = profile.get(name, "")
    return payload


class TwilioSenders(ByAction):
    """The `whatsapp_sender` provider."""

    kind = KIND
    creatable = True
    missing_hint = ""

    def __init__(self, twilio: Any, public_url: str, policy: RetryPolicy = DEFAULT_POLICY):
        self.twilio, self.public_url, self.policy = twilio, public_url, policy

    @property
    def _senders(self) -> Any:
        return self.twilio.messaging.v2.channels_senders

    def desired(self, fleet: Fleet) -> list[Resource]:
        return [desired_sender(c, self.public_url) for c in fleet if c.channel == "whatsapp"]

    def observe(self, desired: Sequence[Resource]) -> list[Resource]:
        pages = lambda: self._senders.page(channel="whatsapp", page_size=PAGE_SIZE)  # noqa: E731
        return [observed_sender(record) for record in twilio_records(pages, self.policy)]

    def delete(self, change: Change) -> Applied:
        sid = change.before.remote_id
        vendor_call(lambda: self._senders(sid).delete(), self.policy)
        return Applied(remote_id=sid)

    def create(self, resource: Resource) -> Applied:
        from twilio.rest.messaging.v2.channels_sender import ChannelsSenderList

        fields = resource.fields
        request = ChannelsSenderList.MessagingV2ChannelsSenderRequestsCreate(
            {
                "sender_id": resource.key,
                "friendly_name": fields["friendly_name"],
                "webhook": dict(fields["webhook"]),
                "profile": profile_payload(fields["profile"], sorted(fields["profile"])),
            }
        )

        def create() -> Any:
            try:
                with vendor_errors():
                    return self._senders.create(request)
            except VendorError as error:
                if error.status == 409:
                    raise AlreadyExists.like(error) from error
                raise

        created = vendor_call(create, self.policy)
        return Applied(created.sid, created.status, status_notice(created.status))

    def update(self, change: Change) -> Applied:
        from twilio.rest.messaging.v2.channels_sender import ChannelsSenderList

        fields = change.after.fields
        changed = {field.path for field in change.fields}
        payload: dict[str, Any] = {}
        if ("friendly_name",) in changed:
            payload["friendly_name"] = fields["friendly_name"]
        if any(path[0] == "webhook" for path in changed):
            payload["webhook"] = dict(fields["webhook"])
        names = sorted({path[1] for path in changed if path[0] == "profile" and len(path) > 1})
        if names:
            # Only changed fields: re-sending profile.name would start another WhatsApp review.
            payload["profile"] = profile_payload(fields.get("profile", {}), names)
        request = ChannelsSenderList.MessagingV2ChannelsSenderRequestsUpdate(payload)
        sid = change.before.remote_id
        updated = vendor_call(lambda: self._senders(sid).update(request), self.policy)
        return Applied(updated.sid, updated.status, status_notice(updated.status))
