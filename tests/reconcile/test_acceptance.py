"""`horizon reconcile` end to end: the CLI, the real SDKs and the sandbox, as operators run it."""

from __future__ import annotations

import json

from twilio.rest.messaging.v2.channels_sender import ChannelsSenderList

EXAMPLE_IDS = ("farmacia-sol", "harbor-hardware", "pizzeria-roma")


def senders(world) -> dict[str, object]:
    listed = world.sandbox.twilio().messaging.v2.channels_senders.list(
        channel="whatsapp", page_size=1000
    )
    return {sender.sender_id: sender for sender in listed}


def seed_sender(world, number: str, friendly_name: str) -> object:
    create = ChannelsSenderList.MessagingV2ChannelsSenderRequestsCreate(
        {
            "sender_id": f"whatsapp:{number}",
            "friendly_name": friendly_name,
            "webhook": {"callback_url": "https://elsewhere.example/hook"},
            "profile": {"name": "Someone Else"},
        }
    )
    return world.sandbox.twilio().messaging.v2.channels_senders.create(create)


def test_first_dry_run_shows_every_example_client_as_create_and_exits_2(world):
    result = world.run("reconcile", "--dry-run", "--detailed-exitcode")

    assert result.exit_code == 2, result.output
    for number in ("+34910000101", "+34910000102", "+14155550101"):
        assert f'+ whatsapp_sender "whatsapp:{number}"' in result.output
    assert '+ knowledge "pizzeria-roma"' in result.output
    assert "Plan: 4 to create, 0 to update, 0 to delete." in result.output
    assert senders(world) == {}


def test_apply_then_second_dry_run_reports_no_changes(world):
    applied = world.run("reconcile", "--yes")
    again = world.run("reconcile", "--dry-run", "--detailed-exitcode")

    assert applied.exit_code == 0, applied.output
    assert "Apply complete: 4 applied, 0 failed" in applied.output
    assert again.exit_code == 0, again.output
    assert "No changes." in again.output
    assert len(senders(world)) == 3


def test_profile_edit_shows_exactly_that_change(world):
    world.run("reconcile", "--yes")
    world.edit("farmacia-sol", "abierta 365 días", "abierta 24 horas")

    result = world.run("reconcile", "--dry-run", "--detailed-exitcode", "--output", "json")

    assert result.exit_code == 2
    plan = json.loads(result.output)
    changed = [change for change in plan["changes"] if change["action"] != "no-op"]
    assert [(c["kind"], c["client"]) for c in changed] == [("whatsapp_sender", "farmacia-sol")]
    assert changed[0]["fields"] == [
        {
            "path": ["profile", "about"],
            "before": "Farmacia de barrio, abierta 365 días",
            "after": "Farmacia de barrio, abierta 24 horas",
        }
    ]
    text = world.run("reconcile", "--dry-run").output
    assert '~ profile.about: "Farmacia de barrio, abierta 365 días" → ' in text
    assert "Plan: 0 to create, 1 to update, 0 to delete." in text


def test_trailing_whitespace_and_key_order_are_not_drift(world):
    world.run("reconcile", "--yes")
    world.edit(
        "harbor-hardware",
        'about: "Tools, paint and keys cut while you wait"',
        'about: "Tools, paint and keys cut while you wait   "',
    )
    path = world.client_file("harbor-hardware")
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index("profile:")
    block = lines[start + 1 : start + 5]
    lines[start + 1 : start + 5] = list(reversed(block))  # same profile, other key order
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = world.run("reconcile", "--dry-run", "--detailed-exitcode")

    assert result.exit_code == 0, result.output
    assert "No changes." in result.output


def test_knowledge_edit_reuploads_only_that_file(world):
    extra = world.clients_dir / "pizzeria-roma" / "drinks.md"
    extra.write_text("# Bebidas\n\nAgua 1,50 €\n", encoding="utf-8")
    world.edit(
        "pizzeria-roma",
        "    - pizzeria-roma/menu.md\n",
        "    - pizzeria-roma/menu.md\n    - pizzeria-roma/drinks.md\n",
    )
    world.run("reconcile", "--yes")
    menu = world.clients_dir / "pizzeria-roma" / "menu.md"
    menu.write_text(menu.read_text(encoding="utf-8") + "\n- Pizza nueva 12 €\n", encoding="utf-8")

    plan = world.run("reconcile", "--dry-run")
    before = world.sandbox.requests()["by_route"]
    applied = world.run("reconcile", "--yes")
    after = world.sandbox.requests()["by_route"]

    assert '~ knowledge "pizzeria-roma"' in plan.output
    assert '~ files["pizzeria-roma/menu.md"]: sha256:' in plan.output
    assert "drinks.md" not in plan.output
    assert "Plan: 0 to create, 1 to update, 0 to delete." in plan.output
    assert applied.exit_code == 0, applied.output
    uploads = after.get("POST /v1/files", 0) - before.get("POST /v1/files", 0)
    assert uploads == 1
    assert "No changes." in world.run("reconcile", "--dry-run").output


def test_removed_client_is_orphaned_and_its_sender_detached_only_with_prune(world):
    world.run("reconcile", "--yes")
    world.client_file("harbor-hardware").unlink()

    plan = world.run("reconcile", "--dry-run", "--detailed-exitcode")
    kept = world.run("reconcile", "--yes")
    still_marked = senders(world)["whatsapp:+14155550101"].friendly_name
    pruned = world.run("reconcile", "--yes", "--prune")
    detached = senders(world)["whatsapp:+14155550101"]

    assert plan.exit_code == 2
    assert '? whatsapp_sender "whatsapp:+14155550101"' in plan.output
    assert "orphaned (would be detached with --prune)" in plan.output
    assert "Plan: 0 to create, 0 to update, 0 to delete." in plan.output
    assert kept.exit_code == 0 and still_marked == "horizon:harbor-hardware"
    assert pruned.exit_code == 0, pruned.output
    assert '. whatsapp_sender "whatsapp:+14155550101"' in pruned.output
    assert "stays registered with WhatsApp" in pruned.output
    assert "Plan: 0 to create, 0 to update, 0 to delete, 1 to detach." in pruned.output
    assert 'detached whatsapp_sender "whatsapp:+14155550101"' in pruned.output
    assert detached.friendly_name == "whatsapp:+14155550101"
    assert detached.webhook["callback_url"] == "" and detached.profile["name"] == "Harbor Hardware"
    assert "No changes." in world.run("reconcile", "--dry-run", "--prune").output


def test_delete_senders_deletes_a_pruned_sender_and_the_plan_says_what_it_costs(world):
    world.run("reconcile", "--yes")
    world.client_file("pizzeria-roma").unlink()

    alone = world.run("reconcile", "--dry-run", "--delete-senders")
    plan = world.run("reconcile", "--dry-run", "--prune", "--delete-senders")
    applied = world.run("reconcile", "--yes", "--prune", "--delete-senders")

    assert alone.exit_code == 1 and "--delete-senders" in alone.output and "--prune" in alone.output
    assert '- whatsapp_sender "whatsapp:+34910000101"' in plan.output
    assert "takes the number off WhatsApp" in plan.output
    assert '- knowledge "pizzeria-roma"' in plan.output
    assert "Plan: 0 to create, 0 to update, 2 to delete." in plan.output
    assert applied.exit_code == 0, applied.output
    assert "whatsapp:+34910000101" not in senders(world)


def test_a_declined_display_name_blocks_the_check_and_is_not_resubmitted(world):
    world.run("reconcile", "--yes")
    world.edit("farmacia-sol", "name: Farmacia Sol", "name: FARMACIA!!!")
    world.run("reconcile", "--yes")
    sid = senders(world)["whatsapp:+34910000102"].sid
    decision = {"decision": "declined", "reason": "NAME_FORMAT_UNACCEPTABLE"}
    world.sandbox.control("POST", f"senders/{sid}/display_name", decision)
    updates = world.sandbox.requests()["by_route"]["POST /v2/Channels/Senders/{Sid}"]

    text = world.run("reconcile", "--dry-run")
    document = json.loads(world.run("reconcile", "--dry-run", "--output", "json").output)
    markdown = world.run("reconcile", "--dry-run", "--output", "markdown").output
    applied = world.run("reconcile", "--yes")
    world.edit("farmacia-sol", "name: FARMACIA!!!", "name: Farmacia Sol Centro")
    renamed = world.run("reconcile", "--dry-run")

    assert text.exit_code == 1
    assert '! whatsapp_sender "whatsapp:+34910000102"  (farmacia-sol)' in text.output
    assert '! WhatsApp declined the display name "FARMACIA!!!"' in text.output
    assert "1 resource cannot be reconciled without you (marked !)." in text.output
    [change] = [c for c in document["changes"] if c["client"] == "farmacia-sol"]
    assert change["action"] == "no-op" and "declined" in change["problem"]
    assert document["problems"] == 1 and document["in_sync"] is False
    assert "<b>farmacia-sol</b> `!1`" in markdown and "WhatsApp declined" in markdown
    assert applied.exit_code == 1
    assert world.sandbox.requests()["by_route"]["POST /v2/Channels/Senders/{Sid}"] == updates
    assert '~ profile.name: "Farmacia Sol" → "Farmacia Sol Centro"' in renamed.output


def test_unmanaged_senders_are_never_touched(world):
    stranger = seed_sender(world, "+14155550199", "Acme Ltd")
    squatter = seed_sender(world, "+14155550101", "Harbor HW (manual)")

    plan = world.run("reconcile", "--dry-run", "--prune")
    applied = world.run("reconcile", "--yes", "--prune")
    live = senders(world)

    assert "not managed by Horizon" in plan.output
    assert "horizon adopt harbor-hardware" in plan.output
    assert "+14155550199" not in plan.output
    assert applied.exit_code == 1  # the blocked client is reported, the others are applied
    assert "Apply complete: 3 applied, 0 failed" in applied.output
    for seeded in (stranger, squatter):
        now = live[seeded.sender_id]
        assert (now.friendly_name, now.webhook, now.profile) == (
            seeded.friendly_name,
            seeded.webhook,
            seeded.profile,
        )


def test_adopt_writes_only_the_mark_then_reconcile_finishes(world):
    seed_sender(world, "+14155550101", "Harbor HW (manual)")

    adopted = world.run("adopt", "harbor-hardware", "--yes")
    sender = senders(world)["whatsapp:+14155550101"]

    assert adopted.exit_code == 0, adopted.output
    assert '~ friendly_name: "Harbor HW (manual)" → "horizon:harbor-hardware"' in adopted.output
    assert "Then `horizon reconcile` will make these changes" in adopted.output
    assert sender.friendly_name == "horizon:harbor-hardware"
    assert sender.webhook["callback_url"] == "https://elsewhere.example/hook"
    plan = world.run("reconcile", "--dry-run", "--client", "harbor-hardware")
    assert '~ webhook.callback_url: "https://elsewhere.example/hook" → ' in plan.output
    assert world.run("reconcile", "--yes").exit_code == 0
    assert "No changes." in world.run("reconcile", "--dry-run").output


def test_adopt_without_anything_to_adopt_says_why(world):
    result = world.run("adopt", "harbor-hardware", "--yes")

    assert result.exit_code == 1
    assert "no existing sender or number for 'harbor-hardware'" in result.output


def test_client_flag_limits_the_plan(world):
    result = world.run("reconcile", "--dry-run", "--client", "farmacia-sol")

    assert "farmacia-sol" in result.output
    assert "pizzeria-roma" not in result.output and "harbor-hardware" not in result.output
    assert "Plan: 1 to create, 0 to update, 0 to delete." in result.output


def test_sms_number_missing_from_the_account_is_an_error_not_a_create(world):
    world.client_file("farmacia-sol").write_text(
        world.client_file("farmacia-sol").read_text().replace("channel: whatsapp", "channel: sms")
    )

    missing = world.run("reconcile", "--dry-run", "--client", "farmacia-sol")
    world.sandbox.seed_numbers("+34910000102")
    unmarked = world.run("reconcile", "--dry-run", "--client", "farmacia-sol")
    world.run("adopt", "farmacia-sol", "--yes")
    adopted = world.run("reconcile", "--yes", "--client", "farmacia-sol")

    assert missing.exit_code == 1
    assert '! sms_number "+34910000102"' in missing.output
    assert "buy or port the number" in missing.output
    assert unmarked.exit_code == 1 and "horizon adopt farmacia-sol" in unmarked.output
    assert adopted.exit_code == 0, adopted.output
    number = world.sandbox.twilio().incoming_phone_numbers.list()[0]
    assert number.sms_url == "https://bots.example.com/twilio/inbound"
    assert number.friendly_name == "horizon:farmacia-sol"


def test_apply_refuses_without_yes_when_not_on_a_terminal(world):
    result = world.run("reconcile")

    assert result.exit_code == 1
    assert "add --yes" in result.output
    assert senders(world) == {}


def test_a_second_apply_on_the_same_account_waits_for_the_first(world):
    from horizon.providers.registry import account_identity
    from horizon.reconcile.lock import apply_lock

    with apply_lock(account_identity(world.sandbox.settings())):
        result = world.run("reconcile", "--yes")

    assert result.exit_code == 1
    assert "another reconcile is applying changes to this account" in result.output
    assert senders(world) == {}


def test_missing_setting_is_one_line_naming_the_variable(world, monkeypatch):
    monkeypatch.delenv("HORIZON_PUBLIC_URL")

    result = world.run("reconcile", "--dry-run")

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: HORIZON_PUBLIC_URL is not set; it is needed to point senders at the webhook"
    ]


def test_secrets_never_appear_in_plans_or_errors(world, monkeypatch):
    monkeypatch.setenv("HORIZON_PUBLIC_URL", "https://bot:hunter2@bots.example.com")
    token = world.sandbox.auth_token

    outputs = [
        world.run("reconcile", "--dry-run", "--output", kind).output
        for kind in ("text", "json", "markdown")
    ]
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "wrong-token-value")
    failed = world.run("reconcile", "--dry-run")

    for output in outputs:
        assert "hunter2" not in output and token not in output
        assert "https://***@bots.example.com/twilio/inbound" in output
    assert failed.exit_code == 1
    assert "wrong-token-value" not in failed.output
    assert failed.output.startswith("Error: could not read the live resources: twilio HTTP 401")


def test_markdown_output_folds_each_client(world):
    result = world.run("reconcile", "--dry-run", "--output", "markdown")

    assert result.output.startswith("### Horizon plan")
    assert "**Plan: 4 to create, 0 to update, 0 to delete.**" in result.output
    for client_id in EXAMPLE_IDS:
        assert f"<details><summary><b>{client_id}</b>" in result.output
    assert "```diff" in result.output
