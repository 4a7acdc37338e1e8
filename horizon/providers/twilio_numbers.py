"""Twilio phone numbers (IncomingPhoneNumbers) of `channel: sms` clients: webhooks and mark.

Numbers are bought or ported by people, never by Horizon: a client whose number is not in
the account is a problem in the plan. Pruning a number detaches Horizon (clears its SMS
webhooks and mark); it never releases the number, which could not be bought back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from horizon.config.client import Client
from horizon.config.fleet import Fleet
from horizon.endpoints import inbound_url, status_url
from horizon.reconcile.fields import normalise
from horizon.reconcile.provider import Applied, ByAction
from horizon.reconcile.resources import Change, Resource, mark, owner_of
from horizon.vendors.retry import DEFAULT_POLICY, RetryPolicy, twilio_records, vendor_call

KIND = "sms_number"
PAGE_SIZE = 1000
MANAGED = ("friendly_name", "sms_url", "sms_method", "status_callback")


def desired_number(client: Client, public_url: str) -> Resource:
    fields = {
        "friendly_name": mark(client.id),
        "sms_url": inbound_url(public_url),
        "sms_method": "POST",
        "status_callback": status_url(public_url),
    }
    return Resource(KIND, client.number, client.id, normalise(fields))


def observed_number(record: Any) -> Resource:
    fields = {name: getattr(record, name, None) for name in MANAGED}
    if fields["sms_method"]:
        fields["sms_method"] = str(fields["sms_method"]).upper()
    if not fields["sms_url"]:
        fields["sms_method"] = None  # a method without a URL is Twilio's default, not a setting
    return Resource(
        KIND,
        record.phone_number,
        owner_of(record.friendly_name),
        normalise(fields),
        remote_id=record.sid,
        label=record.friendly_name,
    )


class TwilioNumbers(ByAction):
    """The `sms_number` provider."""

    kind = KIND
    creatable = False
    missing_hint = "buy or port the number in the Twilio Console, then run reconcile again"

    def __init__(self, twilio: Any, public_url: str, policy: RetryPolicy = DEFAULT_POLICY):
        self.twilio, self.public_url, self.policy = twilio, public_url, policy

    def desired(self, fleet: Fleet) -> list[Resource]:
        return [desired_number(c, self.public_url) for c in fleet if c.channel == "sms"]

    def observe(self, desired: Sequence[Resource]) -> list[Resource]:
        numbers = self.twilio.incoming_phone_numbers
        pages = lambda: numbers.page(page_size=PAGE_SIZE)  # noqa: E731
        return [observed_number(record) for record in twilio_records(pages, self.policy)]

    def update(self, change: Change) -> Applied:
        # Only what differs: adoption changes the mark alone and leaves the webhooks be.
        changed = {field.path[0] for field in change.fields}
        wanted = change.after.fields
        values = {name: wanted.get(name, "") for name in MANAGED if name in changed}
        return self._write(change, values)

    def delete(self, change: Change) -> Applied:
        # Detach, never release: clear Horizon's webhooks and name it by its number again.
        values = {"friendly_name": change.key, "sms_url": "", "status_callback": ""}
        return self._write(change, values)

    def _write(self, change: Change, values: dict[str, str]) -> Applied:
        number = self.twilio.incoming_phone_numbers(change.before.remote_id)
        updated = vendor_call(lambda: number.update(**values), self.policy)
        return Applied(remote_id=updated.sid)
