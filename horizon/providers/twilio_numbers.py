"""Twilio phone numbers (IncomingPhoneNumbers) of `channel: sms` clients: webhook and mark.

Numbers are bought or ported by people, never by Horizon: a client whose number is not in
the account is a problem in the plan. Pruning a number detaches Horizon (clears its SMS
webhook and mark); it never releases the number, which could not be bought back.

A number's `status_callback` is its *voice* call-status callback, not a messaging one:
delivery statuses come from each reply's own `StatusCallback`. Horizon no longer sets it,
and clears the one it used to set (its own /twilio/status URL), so that calls to the
number do not post call statuses to the webhook.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from horizon.config.client import Client
from horizon.config.fleet import Fleet
from horizon.endpoints import inbound_url, status_url
from horizon.reconcile.fields import normalise
from horizon.reconcile.provider import Applied, ByAction
from horizon.reconcile.resources import Change, PruneRule, Resource, mark, owner_of
from horizon.vendors.retry import DEFAULT_POLICY, RetryPolicy, twilio_records, vendor_call

KIND = "sms_number"
PAGE_SIZE = 1000
WEBHOOK = ("friendly_name", "sms_url", "sms_method")
DETACH_HINT = "Horizon clears its SMS webhook and mark and keeps the number"


def desired_number(client: Client, public_url: str) -> Resource:
    fields = {
        "friendly_name": mark(client.id),
        "sms_url": inbound_url(public_url),
        "sms_method": "POST",
    }
    return Resource(KIND, client.number, client.id, normalise(fields))


def observed_number(record: Any, public_url: str, wanted: bool = False) -> Resource:
    """A listed number in the desired form; `wanted`: a client asks for it."""
    fields = {name: getattr(record, name, None) for name in WEBHOOK}
    if fields["sms_method"]:
        fields["sms_method"] = str(fields["sms_method"]).upper()
    if not fields["sms_url"]:
        fields["sms_method"] = None  # a method without a URL is Twilio's default, not a setting
    # Only Horizon's own URL is Horizon's to clear: another one is someone's voice app.
    if getattr(record, "status_callback", None) == status_url(public_url):
        fields["status_callback"] = record.status_callback
    handler = getattr(record, "sms_application_sid", None)
    return Resource(
        KIND,
        record.phone_number,
        owner_of(record.friendly_name),
        normalise(fields),
        remote_id=record.sid,
        label=record.friendly_name,
        problem=handed_elsewhere(handler) if wanted and handler else None,
    )


def handed_elsewhere(handler: str) -> str:
    """Why a number whose inbound messages go to `handler` (AP… or MG…) cannot serve a client.

    "If an `sms_application_sid` is present, we ignore all of the `sms_*_url` urls" (the
    spec's SmsApplicationSid); a Messaging Service that takes a number puts its MG… there.
    """
    if handler.startswith("MG"):
        return (
            f"its inbound messages go to Messaging Service {handler} (its sms_application_sid), "
            "not to the sms_url Horizon sets: remove the number from the service's sender pool "
            "in the Twilio Console"
        )
    return (
        f"its inbound messages go to TwiML application {handler} (its sms_application_sid), "
        "and Twilio ignores the sms_url Horizon sets: remove the application from the number "
        "in the Twilio Console"
    )


def detached_number(resource: Resource) -> Resource:
    """The number once Horizon lets go: no webhook of Horizon's, named by its number again."""
    fields = {"friendly_name": resource.key}
    return Resource(KIND, resource.key, None, fields, remote_id=resource.remote_id)


class TwilioNumbers(ByAction):
    """The `sms_number` provider."""

    kind = KIND
    creatable = False
    missing_hint = "buy or port the number in the Twilio Console, then run reconcile again"
    # A number cannot be bought back once released: prune detaches it, always.
    prune_rule = PruneRule(detached_number, DETACH_HINT)

    def __init__(self, twilio: Any, public_url: str, policy: RetryPolicy = DEFAULT_POLICY):
        self.twilio, self.public_url, self.policy = twilio, public_url, policy

    def desired(self, fleet: Fleet) -> list[Resource]:
        return [desired_number(c, self.public_url) for c in fleet if c.channel == "sms"]

    def observe(self, desired: Sequence[Resource]) -> list[Resource]:
        wanted = {resource.key for resource in desired}
        numbers = self.twilio.incoming_phone_numbers
        pages = lambda: numbers.page(page_size=PAGE_SIZE)  # noqa: E731
        return [
            observed_number(record, self.public_url, record.phone_number in wanted)
            for record in twilio_records(pages, self.policy)
        ]

    def update(self, change: Change) -> Applied:
        # Only what differs: adoption changes the mark alone and leaves the webhook be.
        return self._write(change)

    def detach(self, change: Change) -> Applied:
        return self._write(change)

    def _write(self, change: Change) -> Applied:
        wanted = change.after.fields if change.after is not None else {}
        values = {}
        for name in sorted({field.path[0] for field in change.fields}):
            if name == "sms_method" and not wanted.get(name):
                continue  # Twilio takes GET or POST only; without a URL the method is moot
            values[name] = wanted.get(name, "")
        number = self.twilio.incoming_phone_numbers(change.before.remote_id)
        updated = vendor_call(lambda: number.update(**values), self.policy)
        return Applied(remote_id=updated.sid)
