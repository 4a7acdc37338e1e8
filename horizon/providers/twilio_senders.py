"""Twilio WhatsApp senders (Messaging v2 /v2/Channels/Senders): webhook, profile and mark.

One sender per `channel: whatsapp` client, keyed `whatsapp:+E164`. Its `friendly_name` is
Horizon's ownership mark, `horizon:<client-id>`. A new display name goes through Meta's
review (`twilio_display_names.py` reads it); --prune detaches a sender, as deleting one
takes the number off WhatsApp.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from horizon.config.client import Client
from horizon.config.fleet import Fleet
from horizon.endpoints import inbound_url, status_url
from horizon.providers.twilio_display_names import display_name
from horizon.reconcile.fields import normalise
from horizon.reconcile.provider import Applied, ByAction
from horizon.reconcile.resources import Change, PruneRule, Resource, mark, owner_of
from horizon.vendors.errors import AlreadyExists, VendorError, vendor_errors
from horizon.vendors.retry import DEFAULT_POLICY, RetryPolicy, twilio_records, vendor_call

KIND = "whatsapp_sender"
PAGE_SIZE = 1000  # the most Twilio serves per page
WEBHOOK_KEYS = ("callback_url", "callback_method", "status_callback_url", "status_callback_method")
PROFILE_TEXT = ("name", "about", "description", "address", "vertical")
PROFILE_LISTS = {"emails": ("email", "Email"), "websites": ("website", "Website")}
LIST_ITEMS = tuple(PROFILE_LISTS.items())
# What detaching clears: Twilio stops calling Horizon for this number.
DETACHED_WEBHOOK = ("callback_url", "status_callback_url")
DETACH_HINT = (
    "Horizon clears its webhooks and mark and the sender stays registered with WhatsApp "
    "(`--prune --delete-senders` deletes it)"
)
DELETION_COST = (
    "deleting takes the number off WhatsApp: using it again needs a new registration, "
    "verification code and display-name review"
)

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


def observed_sender(record: Any, wanted_name: str | None = None) -> Resource:
    """A listed sender as a Resource: managed fields only, in the desired form.

    `wanted_name` is the display name git asks for (None: no client asks for this sender);
    a name under Meta's review, or declined while git still wants it, reads as the name.
    """
    webhook = record.webhook or {}
    review = display_name(record, wanted_name)
    profile = {**(record.profile or {}), "name": review.name}
    notices = [status_notice(record.status), review.notice]
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
        problem=review.problem,
    )


def detached_sender(resource: Resource) -> Resource:
    """The sender once Horizon lets go: no webhook of Horizon's, named by its number."""
    webhook = resource.fields.get("webhook", {})
    fields = {
        **resource.fields,
        "friendly_name": resource.key,
        "webhook": {k: v for k, v in webhook.items() if k not in DETACHED_WEBHOOK},
    }
    return Resource(
        resource.kind, resource.key, None, normalise(fields), remote_id=resource.remote_id
    )


def _plain_list(items: Any, key: str) -> list[str]:
    """Twilio answers [{'email': …, 'label': …}]; the label is Twilio's, not ours to compare."""
    values = []
    for item in items or []:
        value = item.get(key) if isinstance(item, dict) else item
        if value:
            values.append(str(value))
    return values


class SparseBody:
    """A Senders request body holding only the fields given.

    The SDK's request classes serialise every field they know, unset ones as null; an
    update from Horizon carries only what changed, so nothing else can be touched.
    """

    def __init__(self, body: Mapping[str, Any]) -> None:
        self.body = dict(body)

    def to_dict(self) -> dict[str, Any]:
        return self.body


def update_body(change: Change) -> dict[str, Any]:
    """The fields `change` changes, as the API takes them; a field now absent is cleared."""
    fields = change.after.fields if change.after is not None else {}
    body: dict[str, Any] = {}
    for path in sorted({field.path for field in change.fields}):
        if path == ("friendly_name",):
            body["friendly_name"] = fields.get("friendly_name", "")
        elif path[0] == "webhook" and len(path) > 1:
            body.setdefault("webhook", {})[path[1]] = fields.get("webhook", {}).get(path[1], "")
    names = sorted({path[1] for path in _paths(change, "profile")})
    if names:
        # Only changed fields: re-sending profile.name would start another WhatsApp review.
        body["profile"] = profile_payload(fields.get("profile", {}), names)
    return body


def _paths(change: Change, top: str) -> list[tuple[str, ...]]:
    return [f.path for f in change.fields if f.path[0] == top and len(f.path) > 1]


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
    prune_rule = PruneRule(detached_sender, DETACH_HINT, DELETION_COST)

    def __init__(self, twilio: Any, public_url: str, policy: RetryPolicy = DEFAULT_POLICY):
        self.twilio, self.public_url, self.policy = twilio, public_url, policy

    @property
    def _senders(self) -> Any:
        return self.twilio.messaging.v2.channels_senders

    def desired(self, fleet: Fleet) -> list[Resource]:
        return [desired_sender(c, self.public_url) for c in fleet if c.channel == "whatsapp"]

    def observe(self, desired: Sequence[Resource]) -> list[Resource]:
        names = {r.key: r.fields.get("profile", {}).get("name") for r in desired}
        pages = lambda: self._senders.page(channel="whatsapp", page_size=PAGE_SIZE)  # noqa: E731
        records = twilio_records(pages, self.policy)
        return [observed_sender(record, names.get(record.sender_id)) for record in records]

    def delete(self, change: Change) -> Applied:
        sid = change.before.remote_id
        vendor_call(lambda: self._senders(sid).delete(), self.policy)
        return Applied(remote_id=sid)

    def detach(self, change: Change) -> Applied:
        return self.update(change)

    def create(self, resource: Resource) -> Applied:
        fields = resource.fields
        request = SparseBody(
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

        created = vendor_call(create, self.policy, recover=lambda: self._created(resource))
        return Applied(created.sid, created.status, status_notice(created.status))

    def _created(self, resource: Resource) -> Any | None:
        """The sender a create whose answer was lost made: its number, with our mark."""
        mark_ = resource.fields["friendly_name"]
        listed = self._senders.stream(channel="whatsapp", page_size=PAGE_SIZE)
        return next(
            (r for r in listed if r.sender_id == resource.key and r.friendly_name == mark_), None
        )

    def update(self, change: Change) -> Applied:
        request = SparseBody(update_body(change))
        sid = change.before.remote_id
        updated = vendor_call(lambda: self._senders(sid).update(request), self.policy)
        notices = [status_notice(updated.status), name_outcome(updated)]
        notice = " ".join(notice for notice in notices if notice) or None
        return Applied(updated.sid, updated.status, notice)


def name_outcome(updated: Any) -> str | None:
    """What an update's answer says of a submitted display name (`display_name_status`)."""
    outcome = getattr(updated, "display_name_status", None)
    if outcome in ("updating", "pending_review"):
        return "the new display name goes to WhatsApp's review; the plan shows its progress."
    if outcome == "error":
        # Returned with a 202 and no code: the other fields were applied (SDK docstring).
        return (
            "Twilio could not process the display name (the other fields were applied); "
            "`horizon reconcile --dry-run` shows where its review stands."
        )
    return None
