"""The whatsapp_sender provider against the sandbox, through the real twilio SDK."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from twilio.rest.messaging.v2.channels_sender import ChannelsSenderInstance

from horizon.config.loader import load_fleet
from horizon.providers.twilio_senders import TwilioSenders, observed_sender, status_notice
from horizon.reconcile.plan import diff
from horizon.reconcile.resources import Action
from horizon.vendors.retry import RetryPolicy

POLICY = RetryPolicy(attempts=3, base_delay=0.01)
CLIENT = """\
name: Pizzería Roma
number: "{number}"
assistant:
  instructions: Eres el asistente de Pizzería Roma.
profile:
  about: "{about}"
  emails: ["hola@pizzeriaroma.es"]
  websites: ["https://pizzeriaroma.es"]
  vertical: Restaurant
"""


def fleet(tmp_path: Path, about: str = "Pizza al horno de leña", count: int = 1):
    directory = tmp_path / "clients"
    directory.mkdir(exist_ok=True)
    for index in range(count):
        text = CLIENT.format(number=f"+3491000{index:04}", about=about)
        (directory / f"roma-{index:02}.yaml").write_text(text, encoding="utf-8")
    result = load_fleet(directory)
    assert result.ok, result.errors
    return result.fleet


def provider(sandbox) -> TwilioSenders:
    return TwilioSenders(sandbox.twilio(max_retries=0), "https://bots.example.com/", POLICY)


def apply_all(senders: TwilioSenders, the_fleet) -> None:
    desired = senders.desired(the_fleet)
    for change in diff(desired, senders.observe(desired)).to_apply:
        senders.apply(change)


def test_created_sender_reads_back_exactly_as_desired(sandbox, tmp_path):
    senders, the_fleet = provider(sandbox), fleet(tmp_path)

    apply_all(senders, the_fleet)
    desired = senders.desired(the_fleet)
    (observed,) = senders.observe(desired)

    assert observed.fields == desired[0].fields  # Twilio's labels on emails are not drift
    assert observed.owner == "roma-00" and observed.label == "horizon:roma-00"
    assert observed.fields["webhook"]["callback_url"] == "https://bots.example.com/twilio/inbound"


def test_observing_many_senders_is_one_request(sandbox, tmp_path):
    senders, the_fleet = provider(sandbox), fleet(tmp_path, count=30)
    apply_all(senders, the_fleet)
    before = sandbox.requests()["by_route"]["GET /v2/Channels/Senders"]

    observed = senders.observe(senders.desired(the_fleet))

    assert len(observed) == 30
    assert sandbox.requests()["by_route"]["GET /v2/Channels/Senders"] == before + 1


def test_update_sends_only_the_changed_profile_fields(sandbox, tmp_path):
    senders = provider(sandbox)
    apply_all(senders, fleet(tmp_path))
    (live,) = senders.observe([])
    renamed = {"profile": {"name": "Renamed by hand"}}
    sdk = sandbox.twilio().messaging.v2.channels_senders
    sdk(live.remote_id).update(
        ChannelsSenderInstance.MessagingV2ChannelsSenderRequestsUpdate(renamed)
    )

    the_fleet = fleet(tmp_path, about="Pizza napolitana")
    desired = senders.desired(the_fleet)
    (change,) = diff(desired, senders.observe(desired)).to_apply
    about_only = tuple(field for field in change.fields if field.path != ("profile", "name"))
    senders.apply(replace(change, fields=about_only))  # as if only `about` had differed

    assert [field.path for field in change.fields] == [("profile", "about"), ("profile", "name")]
    fetched = sdk(live.remote_id).fetch()
    assert (fetched.pending_display_name, fetched.pending_display_name_status) == (
        "Renamed by hand",
        "PENDING_REVIEW",
    )  # the name under review was not sent again
    assert fetched.profile["about"] == "Pizza napolitana"


def test_sender_not_online_carries_what_the_operator_must_do(start_sandbox, tmp_path):
    sandbox = start_sandbox(sender_online_after=60)
    senders = provider(sandbox)
    desired = senders.desired(fleet(tmp_path))

    (change,) = diff(desired, senders.observe(desired)).to_apply
    applied = senders.apply(change)
    (observed,) = senders.observe(desired)

    assert applied.status == "CREATING" and "registering it with WhatsApp" in applied.notice
    assert observed.notice.startswith("sender is CREATING, not ONLINE")


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("PENDING_VERIFICATION", "enter the code WhatsApp sent"),
        ("OFFLINE", "offline reasons"),
        ("TWILIO_REVIEW", "wait for their e-mail"),
        ("ONLINE", None),
    ],
)
def test_status_notice_says_what_to_do(status, words):
    notice = status_notice(status)

    assert notice is None if words is None else words in notice


def test_display_name_under_review_is_not_drift(sandbox):
    payload = {
        "sid": "XE1",
        "sender_id": "whatsapp:+34910000000",
        "friendly_name": "horizon:roma",
        "status": "ONLINE",
        "webhook": {},
        "profile": {"name": "Old Name"},
        "pending_display_name": "New Name",
        "pending_display_name_status": "PENDING_REVIEW",
    }
    record = ChannelsSenderInstance(sandbox.twilio().messaging.v2, payload)

    observed = observed_sender(record)

    assert observed.fields["profile"]["name"] == "New Name"
    assert "awaits WhatsApp's review" in observed.notice


def test_prune_deletes_the_sender(sandbox, tmp_path):
    senders = provider(sandbox)
    apply_all(senders, fleet(tmp_path))

    (change,) = diff([], senders.observe([]), prune=True).to_apply
    senders.apply(change)

    assert change.action is Action.DELETE
    assert senders.observe([]) == []
