"""The sms_number provider against the sandbox: numbers are adopted and configured, never bought."""

from __future__ import annotations

from pathlib import Path

from horizon.config.loader import load_fleet
from horizon.providers.twilio_numbers import TwilioNumbers
from horizon.reconcile.adopt import plan_adoption
from horizon.reconcile.plan import diff, plan_fleet
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
    ]
    assert live(sandbox).sms_url == "https://bots.example.com/twilio/inbound"
    assert live(sandbox).status_callback == ""  # the voice call-status callback is not Horizon's
    assert diff(desired, numbers.observe(desired)).in_sync


def adopted(sandbox, tmp_path: Path, **settings: str):
    """A seeded number adopted by client harbor-sms, with these settings made by hand."""
    fleet, numbers = setup(sandbox, tmp_path)
    [seeded] = sandbox.seed_numbers(NUMBER)
    if settings:
        sandbox.twilio().incoming_phone_numbers(seeded["sid"]).update(**settings)
    for change in plan_adoption(fleet, "harbor-sms", [numbers]).changes:
        numbers.apply(change)
    return fleet, numbers


def test_prune_detaches_the_number_but_keeps_it(sandbox, tmp_path):
    _, numbers = adopted(sandbox, tmp_path)
    (tmp_path / "none").mkdir()
    empty = load_fleet(tmp_path / "none").fleet

    (change,) = plan_fleet(empty, [numbers], prune=True).to_apply
    numbers.apply(change)

    assert change.action is Action.DETACH
    assert [(f.path, f.after) for f in change.fields] == [(("friendly_name",), NUMBER)]
    assert (live(sandbox).friendly_name, live(sandbox).sms_url) == (NUMBER, "")


def test_the_status_callback_horizon_once_set_is_cleared_and_another_left_alone(sandbox, tmp_path):
    horizons = "https://bots.example.com/twilio/status"
    fleet, numbers = adopted(sandbox, tmp_path, status_callback=horizons)
    desired = numbers.desired(fleet)

    (change,) = diff(desired, numbers.observe(desired)).to_apply
    numbers.apply(change)
    sandbox.twilio().incoming_phone_numbers(live(sandbox).sid).update(
        status_callback="https://calls.example.com/status"
    )

    assert (("status_callback",), horizons, None) in [
        (f.path, f.before, f.after) for f in change.fields
    ]
    assert live(sandbox).status_callback == "https://calls.example.com/status"
    assert diff(desired, numbers.observe(desired)).in_sync  # someone's voice app: not ours


def test_a_number_whose_messages_go_to_an_application_is_a_problem(sandbox, tmp_path):
    application = "AP" + "c" * 32
    fleet, numbers = adopted(sandbox, tmp_path, sms_application_sid=application)
    desired = numbers.desired(fleet)

    plan = diff(desired, numbers.observe(desired))

    (change,) = plan.changes
    assert change.needs_operator and plan.problems == (change,)
    assert f"TwiML application {application}" in change.problem
    assert "Twilio ignores the sms_url" in change.problem
    assert change.action is Action.UPDATE  # the webhook is still set, for when it is freed


def test_a_number_in_a_messaging_service_is_a_problem(sandbox, tmp_path):
    service = "MG" + "d" * 32
    fleet, numbers = setup(sandbox, tmp_path)
    sandbox.control("POST", "numbers", {"numbers": [NUMBER], "sms_application_sid": service})
    desired = numbers.desired(fleet)

    (change,) = diff(desired, numbers.observe(desired)).changes
    orphaned = diff([], numbers.observe([]))

    assert change.action is Action.CONFLICT and change.needs_operator
    assert f"Messaging Service {service}" in change.problem
    assert orphaned.changes == ()  # nobody's number is nobody's problem
