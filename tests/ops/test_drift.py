"""The panel's drift check against the sandbox: the example clients planned as
`horizon reconcile --dry-run` plans them, a change made at the vendor seen as drift, gone
again after reconcile; failures reported on one line, never raised out of the thread."""

from __future__ import annotations

import time

from twilio.rest.messaging.v2.channels_sender import ChannelsSenderList

from horizon.ops.drift import DriftChecker
from tests.reconcile.conftest import PUBLIC_URL, world  # noqa: F401 (the fixture)
from tests.reconcile.test_acceptance import seed_sender, senders

EXAMPLES = ("farmacia-sol", "harbor-hardware", "pizzeria-roma")


def checker_for(world, **options) -> DriftChecker:  # noqa: F811
    settings = world.sandbox.settings(HORIZON_PUBLIC_URL=PUBLIC_URL)
    return DriftChecker(
        settings, world.clients_dir, providers=lambda _: world.providers(), **options
    )


def statuses(report) -> dict[str, str]:
    return {client: drift.status for client, drift in report.clients.items()}


def test_a_change_at_the_vendor_is_out_of_sync_until_reconcile(world):  # noqa: F811
    checker = checker_for(world)
    before = checker.refresh()
    assert before.error is None and statuses(before) == dict.fromkeys(EXAMPLES, "Missing")
    assert 'whatsapp_sender "whatsapp:+34910000102"' in before.clients["farmacia-sol"].fields
    assert before.clients["farmacia-sol"].sender_status == "MISSING"
    roma_files = before.clients["pizzeria-roma"].knowledge
    assert roma_files and {f["status"] for f in roma_files} == {"missing"}
    assert all(f["size"] > 0 for f in roma_files)

    assert world.run("reconcile", "--yes").exit_code == 0
    synced = checker.refresh()
    assert statuses(synced) == dict.fromkeys(EXAMPLES, "Synced")
    assert checker.latest() is synced and synced.orphans == []
    assert {f["status"] for f in synced.clients["pizzeria-roma"].knowledge} == {"completed"}
    assert synced.clients["farmacia-sol"].sender_status in ("CREATING", "ONLINE")
    assert synced.clients["farmacia-sol"].fields == []

    sol = senders(world)["whatsapp:+34910000102"]
    moved = {"webhook": {"callback_url": "https://elsewhere.example/hook"}}
    request = ChannelsSenderList.MessagingV2ChannelsSenderRequestsUpdate(moved)
    world.sandbox.twilio().messaging.v2.channels_senders(sol.sid).update(request)
    drifted = checker.refresh()
    assert drifted.clients["farmacia-sol"].status == "OutOfSync"
    assert drifted.clients["farmacia-sol"].fields == ["whatsapp_sender.webhook.callback_url"]
    assert drifted.clients["pizzeria-roma"].status == "Synced"

    assert world.run("reconcile", "--yes").exit_code == 0
    assert statuses(checker.refresh()) == dict.fromkeys(EXAMPLES, "Synced")


def test_a_sender_without_horizons_mark_is_not_managed(world):  # noqa: F811
    seed_sender(world, "+14155550101", "someone else's")
    report = checker_for(world).refresh()
    harbor = report.clients["harbor-hardware"]
    assert harbor.status == "NotManaged"
    assert harbor.fields == ['whatsapp_sender "whatsapp:+14155550101"']


def test_a_removed_client_leaves_orphans_reported_apart(world):  # noqa: F811
    assert world.run("reconcile", "--yes").exit_code == 0
    world.client_file("harbor-hardware").unlink()
    report = checker_for(world).refresh()
    assert set(report.clients) == {"farmacia-sol", "pizzeria-roma"}
    assert [(o["kind"], o["client"]) for o in report.orphans] == [
        ("whatsapp_sender", "harbor-hardware")
    ]


def test_a_failed_check_is_one_line_and_the_next_one_runs(world):  # noqa: F811
    world.edit("farmacia-sol", "name:", "nombre:")
    checker = checker_for(world, interval_s=0.05)
    checker.start()
    try:
        deadline = time.monotonic() + 10
        while checker.latest() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        failed = checker.latest()
        assert failed is not None and failed.clients == {}
        assert "farmacia-sol.yaml" in failed.error and "\n" not in failed.error
        world.edit("farmacia-sol", "nombre:", "name:")
        while checker.latest().error is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert checker.latest().error is None  # the thread lived on
    finally:
        checker.stop()


def test_without_a_public_url_the_check_says_which_setting(world, sandbox):  # noqa: F811
    settings = sandbox.settings(HORIZON_PUBLIC_URL="")
    report = DriftChecker(settings.model_copy(update={"public_url": None}), world.clients_dir)
    found = report.refresh()
    assert found.clients == {} and "HORIZON_PUBLIC_URL" in found.error
    assert len(senders(world)) == 0  # a check never changes anything


def test_knowledge_files_show_which_one_openai_could_not_index(world):  # noqa: F811
    (world.clients_dir / "pizzeria-roma" / "empty.md").write_bytes(b"")
    world.edit(
        "pizzeria-roma",
        "    - pizzeria-roma/menu.md\n",
        "    - pizzeria-roma/menu.md\n    - pizzeria-roma/empty.md\n",
    )
    world.run("reconcile", "--yes")
    roma = checker_for(world).refresh().clients["pizzeria-roma"]
    files = {f["name"]: f for f in roma.knowledge}
    assert files["pizzeria-roma/menu.md"]["status"] == "completed"
    empty = files["pizzeria-roma/empty.md"]
    assert (empty["status"], empty["size"]) == ("failed", 0)
    assert "could not be parsed" in empty["error"]
    assert any("could not index" in notice for notice in roma.notices)
