"""The whatsapp_sender provider against the sandbox, through the real twilio SDK."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from twilio.rest.messaging.v2.channels_sender import ChannelsSenderInstance

from horizon.config.loader import load_fleet
from horizon.providers.twilio_senders import TwilioSenders, observed_sender, status_notice
from horizon.reconcile.plan import diff, plan_fleet
from horizon.reconcile.resources import Action
from horizon.vendors.retry import RetryPolicy

POLICY = RetryPolicy(attempts=3, base_delay=0.01)
CLIENT = """\
name: {name}
number: "{number}"
assistant:
  instructions: Eres el asistente de Pizzería Roma.
profile:
  about: "{about}"
  emails: ["hola@pizzeriaroma.es"]
  websites: ["https://pizzeriaroma.es"]
  vertical: Restaurant
"""


def fleet(
    tmp_path: Path,
    about: str = "Pizza al horno de leña",
    count: int = 1,
    name: str = "Pizzería Roma",
):
    directory = tmp_path / "clients"
    directory.mkdir(exist_ok=True)
    for index in range(count):
        text = CLIENT.format(number=f"+3491000{index:04}", about=about, name=name)
        (directory / f"roma-{index:02}.yaml").write_text(text, encoding="utf-8")
    result = load_fleet(directory)
    assert result.ok, result.errors
    return result.fleet


def no_clients(tmp_path: Path):
    (tmp_path / "none").mkdir()
    return load_fleet(tmp_path / "none").fleet


def provider(sandbox) -> TwilioSenders:
    return TwilioSenders(sandbox.twilio(max_retries=0), "https://bots.example.com/", POLICY)


def apply_all(senders: TwilioSenders, the_fleet) -> list:
    desired = senders.desired(the_fleet)
    return [senders.apply(change) for change in diff(desired, senders.observe(desired)).to_apply]


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


class WireBodies:
    """The JSON bodies the twilio SDK put on the wire for sender updates, as sent."""

    def __init__(self, twilio) -> None:
        self.bodies: list[dict] = []
        twilio.http_client.session.hooks["response"].append(self._record)

    def _record(self, response, *args, **kwargs) -> None:
        request = response.request
        if request.method == "POST" and "/v2/Channels/Senders/XE" in request.url:
            self.bodies.append(json.loads(request.body))


def test_update_puts_only_the_changed_fields_on_the_wire_and_no_nulls(sandbox, tmp_path):
    twilio = sandbox.twilio(max_retries=0)
    senders, wire = TwilioSenders(twilio, "https://bots.example.com/", POLICY), WireBodies(twilio)
    apply_all(senders, fleet(tmp_path))

    apply_all(senders, fleet(tmp_path, about="Pizza napolitana"))

    assert wire.bodies == [{"profile": {"about": "Pizza napolitana"}}]


def test_a_moved_webhook_sends_the_changed_webhook_keys_alone(sandbox, tmp_path):
    twilio = sandbox.twilio(max_retries=0)
    apply_all(provider(sandbox), fleet(tmp_path))
    moved, wire = TwilioSenders(twilio, "https://new.example.com", POLICY), WireBodies(twilio)

    apply_all(moved, fleet(tmp_path))

    assert wire.bodies == [
        {
            "webhook": {
                "callback_url": "https://new.example.com/twilio/inbound",
                "status_callback_url": "https://new.example.com/twilio/status",
            }
        }
    ]


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


def decide(sandbox, sid: str, decision: str, reason: str = "NAME_FORMAT_UNACCEPTABLE") -> None:
    body = {"decision": decision, "reason": reason}
    sandbox.http.post(f"/__sandbox__/senders/{sid}/display_name", json=body).raise_for_status()


def sender_updates(sandbox) -> int:
    return sandbox.requests()["by_route"].get("POST /v2/Channels/Senders/{Sid}", 0)


def test_a_declined_display_name_is_a_problem_and_is_submitted_again_only_once_renamed(
    sandbox, tmp_path
):
    senders = provider(sandbox)
    apply_all(senders, fleet(tmp_path))
    declined = fleet(tmp_path, name="PIZZA!!!")
    apply_all(senders, declined)
    (live,) = senders.observe([])
    decide(sandbox, live.remote_id, "declined")
    updates = sender_updates(sandbox)

    (change,) = plan_fleet(declined, [senders]).changes
    apply_all(senders, declined)
    renamed = fleet(tmp_path, name="Pizzería Roma Centro")
    (resubmit,) = plan_fleet(renamed, [senders]).to_apply

    assert change.action is Action.NOOP and change.needs_operator
    assert change.problem.startswith('WhatsApp declined the display name "PIZZA!!!" on ')
    assert "WhatsApp Manager" in change.problem
    assert sender_updates(sandbox) == updates  # nothing sent while git still wants it
    assert [(f.path, f.before, f.after) for f in resubmit.fields] == [
        (("profile", "name"), "Pizzería Roma", "Pizzería Roma Centro")
    ]


def test_a_name_under_review_is_not_submitted_again_nor_replaced_until_decided(sandbox, tmp_path):
    senders = provider(sandbox)
    apply_all(senders, fleet(tmp_path))
    applied = apply_all(senders, fleet(tmp_path, name="Roma Pizzería"))
    updates = sender_updates(sandbox)

    (same,) = plan_fleet(fleet(tmp_path, name="Roma Pizzería"), [senders]).changes
    (other,) = plan_fleet(fleet(tmp_path, name="Roma Centro"), [senders]).changes
    (live,) = senders.observe([])
    decide(sandbox, live.remote_id, "approved")
    after = plan_fleet(fleet(tmp_path, name="Roma Pizzería"), [senders])

    assert "goes to WhatsApp's review" in applied[0].notice
    assert same.action is Action.NOOP and "awaits WhatsApp's review" in same.notice
    assert other.action is Action.NOOP and 'the name "Roma Centro" waits' in other.notice
    assert not other.needs_operator  # it resolves itself once Meta decides
    assert sender_updates(sandbox) == updates
    assert after.in_sync and after.changes[0].notice is None


def test_prune_detaches_the_sender_and_keeps_it_registered(sandbox, tmp_path):
    senders = provider(sandbox)
    apply_all(senders, fleet(tmp_path))
    empty = no_clients(tmp_path)

    (change,) = plan_fleet(empty, [senders], prune=True).to_apply
    senders.apply(change)
    (sender,) = sandbox.twilio().messaging.v2.channels_senders.list(channel="whatsapp")

    assert change.action is Action.DETACH
    assert "stays registered with WhatsApp" in change.hint
    assert [(f.path, f.after) for f in change.fields] == [
        (("friendly_name",), "whatsapp:+34910000000"),
        (("webhook", "callback_url"), None),
        (("webhook", "status_callback_url"), None),
    ]
    assert sender.friendly_name == "whatsapp:+34910000000"
    assert (sender.webhook["callback_url"], sender.webhook["status_callback_url"]) == ("", "")
    assert sender.profile["name"] == "Pizzería Roma"
    assert plan_fleet(empty, [senders], prune=True).changes == ()  # no longer Horizon's


def test_prune_with_delete_senders_deletes_and_says_what_it_costs(sandbox, tmp_path):
    senders = provider(sandbox)
    apply_all(senders, fleet(tmp_path))
    empty = no_clients(tmp_path)

    (change,) = plan_fleet(empty, [senders], prune=True, deleting=[senders.kind]).to_apply
    senders.apply(change)

    assert change.action is Action.DELETE
    assert "takes the number off WhatsApp" in change.hint
    assert "verification" in change.hint and "display-name review" in change.hint
    assert senders.observe([]) == []


@pytest.mark.parametrize("fault", [{"status": 500}, {"drop": True}], ids=["500", "dropped"])
def test_a_create_whose_answer_is_lost_is_found_not_repeated(sandbox, tmp_path, fault):
    senders, the_fleet = provider(sandbox), fleet(tmp_path)
    desired = senders.desired(the_fleet)
    (change,) = diff(desired, senders.observe(desired)).to_apply
    # Seed 1 at rate one half fails the first request (the create, after it took effect)
    # and serves the next (the listing that looks for it).
    sandbox.faults(fail_rate=0.5, seed=1, phase="after", paths=["/v2/Channels/Senders"], **fault)

    applied = senders.apply(change)
    sandbox.faults(fail_rate=0)
    listed = sandbox.twilio().messaging.v2.channels_senders.list(channel="whatsapp")

    assert [sender.sid for sender in listed] == [applied.remote_id]
    assert sandbox.requests()["by_route"]["POST /v2/Channels/Senders"] == 1
    assert diff(desired, senders.observe(desired)).in_sync
