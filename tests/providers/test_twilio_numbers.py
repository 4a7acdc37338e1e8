"""The sms_number provider against the sandbox: numbers are adopted and configured, never bought."""

from __future__ import annotations

from pathlib import Path

from horizon.config.loader import load_fleet
from horizon.providers.twilio_numbers import TwilioNumbers
from horizon.reconcile.adopt import plan_adoption
from horizon.reconcile.plan import diff
from horizon.reconcile.resources import Action
from horizon.vendors.retry import RetryPolicy

NUMBER = "+14155550123"
CLIENT = f"""\
name: Harbor SMS
number: "{NUMBER}"
channel: sms
assistant:
  instructions: You answer texts for Harbor Hardware.
"""


def setup(sandbox, tmp_path: Path):
    directory = tmp_path / "clients"
    directory.mkdir()
    (directory / "harbor-sms.yaml").write_text(CLIENT, encoding="utf-8")
    fleet = load_fleet(directory).fleet
    numbers = TwilioNumbers(
        sandbox.twilio(max_retries=0), "https://bots.example.com", RetryPolicy(base_delay=0.01)
    )
    return fleet, numbers


def live(sandbox):
    (number,) = sandbox.twilio().incoming_phone_numbers.list(phone_number=NUMBER)
    return number


def test_number_missing_from_the_account_is_a_problem(sandbox, tmp_path):
    fleet, numbers = setup(sandbox, tmp_path)
    desired = numbers.desired(fleet)

    plan = diff(desired, numbers.observe(desired), uncreatable={"sms_number": numbers.missing_hint})

    assert [change.action for change in plan.changes] == [Action.MISSING]


def test_adoption_writes_the_mark_alone_then_reconcile_sets_the_webhooks(sandbox, tmp_path):
    fleet, numbers = setup(sandbox, tmp_path)
    sandbox.seed_numbers(NUMBER)

    adoption = plan_adoption(fleet, "harbor-sms", [numbers])
    for change in adoption.changes:
        numbers.apply(change)
    adopted = live(sandbox)
    desired = numbers.desired(fleet)
    (update,) = diff(desired, numbers.observe(desired)).to_apply
    numbers.apply(update)

    assert (adopted.friendly_name, adopted.sms_url) == ("horizon:harbor-sms", "")
    assert [field.path for field in adoption.afterwards[0].fields] == [
        ("sms_method",),
        ("sms_url",),
        ("status_callback",),
    ]
    assert live(sandbox).sms_url == "https://bots.example.com/twilio/inbound"
    assert live(sandbox).status_callback == "https://bots.example.com/twilio/status"
    assert diff(desired, numbers.observe(desired)).in_sync


def test_prune_detaches_the_number_but_keeps_it(sandbox, tmp_path):
    fleet, numbers = setup(sandbox, tmp_path)
    sandbox.seed_numbers(NUMBER)
    for change in plan_adoption(fleet, "harbor-sms", [numbers]).changes:
        numbers.apply(change)

    (change,) = diff([], numbers.observe([]), prune=True).to_apply
    numbers.apply(change)

    assert change.action is Action.DELETE
    assert (live(sandbox).friendly_name, live(sandbox).sms_url) == (NUMBER, "")
