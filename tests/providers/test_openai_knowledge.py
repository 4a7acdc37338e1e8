"""The knowledge provider against the sandbox: files tracked by sha256, uploaded when changed,
waited for until OpenAI has indexed them, and created once even when an answer is lost."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from horizon.cli import main
from horizon.config.loader import load_fleet
from horizon.providers.openai_indexing import IndexWait
from horizon.providers.openai_knowledge import OpenAIKnowledge, manifest
from horizon.reconcile.plan import diff
from horizon.reconcile.provider import Applied
from horizon.reconcile.render_json import render_json
from horizon.reconcile.render_text import render_text
from horizon.reconcile.resources import Action
from horizon.sandbox.faults import Faults
from horizon.vendors.errors import VendorError
from horizon.vendors.openai_sdk import openai_client
from horizon.vendors.retry import RetryPolicy
from horizon.vendors.vector_stores import vector_store_ids

CLIENT = """\
name: Pizzería Roma
number: "+34910000101"
assistant:
  instructions: Eres el asistente de Pizzería Roma.
  knowledge: {files}
"""


class Shop:
    """A client directory whose knowledge files the test edits."""

    def __init__(self, tmp_path: Path, sandbox, timeout: float = 30.0, **options) -> None:
        self.directory = tmp_path / "clients"
        (self.directory / "roma").mkdir(parents=True)
        self.sandbox = sandbox
        self.progress: list[str] = []
        self.applied: list[Applied] = []
        openai = openai_client(sandbox.settings(), timeout=timeout, max_retries=0)
        self.knowledge = OpenAIKnowledge(
            openai, RetryPolicy(base_delay=0.01), progress=self.progress.append, **options
        )

    def write(self, name: str, text: str) -> None:
        (self.directory / "roma" / name).write_text(text, encoding="utf-8")

    def listing(self, *names: str) -> None:
        files = "[" + ", ".join(f"roma/{name}" for name in names) + "]"
        (self.directory / "roma.yaml").write_text(CLIENT.format(files=files), encoding="utf-8")

    def plan(self, prune: bool = False):
        fleet = load_fleet(self.directory).fleet
        desired = self.knowledge.desired(fleet)
        return diff(desired, self.knowledge.observe(desired), prune=prune)

    def apply(self, prune: bool = False):
        return self.apply_plan(self.plan(prune))

    def apply_plan(self, plan):
        self.applied = [self.knowledge.apply(change) for change in plan.to_apply]
        return plan

    def count(self, route: str) -> int:
        return self.sandbox.requests()["by_route"].get(route, 0)

    def attached(self) -> list:
        openai = self.sandbox.openai()
        (store,) = openai.vector_stores.list()
        return list(openai.vector_stores.files.list(store.id))


def shop(tmp_path, sandbox, **options) -> Shop:
    made = Shop(tmp_path, sandbox, **options)
    made.write("menu.md", "# Carta\nMargarita 9 €\n")
    made.write("drinks.md", "# Bebidas\nAgua 1,50 €\n")
    made.listing("menu.md", "drinks.md")
    return made


def test_new_store_carries_the_mark_and_each_file_its_path_and_sha256(sandbox, tmp_path):
    roma = shop(tmp_path, sandbox)

    (change,) = roma.apply().changes
    (store,) = sandbox.openai().vector_stores.list()
    attributes = sorted((f.attributes["path"], f.attributes["sha256"]) for f in roma.attached())

    assert change.action is Action.CREATE
    assert store.name == "horizon:roma"
    files = change.after.fields["files"]
    assert store.metadata == {
        "managed_by": "horizon",
        "client": "roma",
        "manifest_sha256": manifest(files),
    }
    assert attributes == sorted(files.items())
    assert roma.count("POST /v1/files") == 2


def test_store_in_sync_is_proved_by_the_listing_alone(sandbox, tmp_path):
    roma = shop(tmp_path, sandbox)
    roma.apply()
    listings = roma.count("GET /v1/vector_stores/{vector_store_id}/files")

    plan = roma.plan()

    assert plan.in_sync
    assert roma.count("GET /v1/vector_stores/{vector_store_id}/files") == listings


def test_changed_file_is_the_only_one_uploaded_and_its_old_copy_is_removed(sandbox, tmp_path):
    roma = shop(tmp_path, sandbox)
    roma.apply()
    old_ids = {f.attributes["path"]: f.id for f in roma.attached()}
    roma.write("menu.md", "# Carta\nMargarita 10 €\n")
    uploads = roma.count("POST /v1/files")

    (change,) = roma.apply().changes
    now = {f.attributes["path"]: f.id for f in roma.attached()}

    assert [field.path for field in change.fields] == [("files", "roma/menu.md")]
    assert roma.count("POST /v1/files") == uploads + 1
    assert now["roma/drinks.md"] == old_ids["roma/drinks.md"]
    assert now["roma/menu.md"] != old_ids["roma/menu.md"]
    file_ids = {f.id for f in sandbox.openai().files.list()}
    assert old_ids["roma/menu.md"] not in file_ids
    assert roma.plan().in_sync


def test_file_removed_from_the_list_is_detached_and_nothing_uploaded(sandbox, tmp_path):
    roma = shop(tmp_path, sandbox)
    roma.apply()
    roma.listing("menu.md")
    uploads = roma.count("POST /v1/files")

    (change,) = roma.apply().changes

    assert [(f.path, f.after) for f in change.fields] == [(("files", "roma/drinks.md"), None)]
    assert [f.attributes["path"] for f in roma.attached()] == ["roma/menu.md"]
    assert roma.count("POST /v1/files") == uploads
    assert roma.plan().in_sync


def test_file_detached_by_hand_is_drift_and_comes_back(sandbox, tmp_path):
    roma = shop(tmp_path, sandbox)
    roma.apply()
    openai = sandbox.openai()
    victim = next(f for f in roma.attached() if f.attributes["path"] == "roma/drinks.md")
    openai.vector_stores.files.delete(victim.id, vector_store_id=victim.vector_store_id)

    change, unused = roma.apply().changes

    assert [(f.path, f.before) for f in change.fields] == [(("files", "roma/drinks.md"), None)]
    # the detached copy is an upload nothing uses: orphaned, and gone with --prune
    assert (unused.action, unused.key) == (
        Action.ORPHAN,
        f"upload:roma--roma--drinks.md ({victim.id})",
    )
    assert [c.action for c in roma.apply(prune=True).changes] == [Action.NOOP, Action.DELETE]
    assert roma.plan().in_sync


def test_store_of_a_client_without_knowledge_is_orphaned_then_pruned_with_its_files(
    sandbox, tmp_path
):
    roma = shop(tmp_path, sandbox)
    roma.apply()
    roma.listing()
    (roma.directory / "roma.yaml").write_text(
        CLIENT.replace("  knowledge: {files}\n", ""), encoding="utf-8"
    )

    orphaned = roma.plan()
    roma.apply(prune=True)

    assert [c.action for c in orphaned.changes] == [Action.ORPHAN]
    assert list(sandbox.openai().vector_stores.list()) == []
    assert list(sandbox.openai().files.list()) == []


def test_vector_store_ids_maps_each_client_to_its_store(sandbox, tmp_path):
    roma = shop(tmp_path, sandbox)
    roma.apply()
    (store,) = sandbox.openai().vector_stores.list()

    assert vector_store_ids(sandbox.openai()) == {"roma": store.id}


def test_plan_shows_each_knowledge_file_with_its_path_and_size(sandbox, tmp_path):
    roma = shop(tmp_path, sandbox)

    text = render_text(roma.plan())
    document = json.loads(render_json(roma.plan()))

    menu = roma.directory / "roma" / "menu.md"
    assert '+ files["roma/menu.md"]: sha256:' in text
    assert f"…  ({menu}, {menu.stat().st_size} bytes)" in text
    fields = {tuple(f["path"]): f for f in document["changes"][0]["fields"]}
    assert fields[("files", "roma/menu.md")]["source"] == {
        "path": str(menu),
        "bytes": menu.stat().st_size,
    }
    assert "source" not in fields[("name",)]


def test_upload_whose_attach_fails_is_deleted(sandbox, tmp_path):
    roma = shop(tmp_path, sandbox)
    roma.apply()
    roma.write("menu.md", "# Carta\nMargarita 10 €\n")
    plan = roma.plan()
    openai = sandbox.openai()
    (store,) = openai.vector_stores.list()
    openai.vector_stores.delete(store.id)  # gone between plan and apply: the attach fails
    before = {f.id for f in openai.files.list()}

    with pytest.raises(VendorError) as failed:
        roma.apply_plan(plan)

    assert failed.value.status == 404
    assert roma.count("POST /v1/files") == 3  # the new content was uploaded…
    assert {f.id for f in openai.files.list()} == before  # …and deleted again


def test_upload_no_store_holds_is_orphaned_then_pruned_and_no_other_file_is_touched(
    sandbox, tmp_path
):
    roma = shop(tmp_path, sandbox)
    roma.apply()
    files = sandbox.openai().files
    stray = files.create(file=("roma--roma--old.md", b"# old\n"), purpose="assistants")
    others = [
        files.create(file=("report--q3.md", b"# not ours\n"), purpose="assistants"),
        files.create(file=("roma.md", b"# not named like ours\n"), purpose="assistants"),
    ]

    plan = roma.plan()
    [orphan] = [change for change in plan.changes if change.action is Action.ORPHAN]
    text = render_text(plan)
    roma.apply(prune=True)
    left = {f.id for f in files.list()}

    assert (orphan.key, orphan.client) == (f"upload:roma--roma--old.md ({stray.id})", "roma")
    assert f'? knowledge "upload:roma--roma--old.md ({stray.id})"  (roma)' in text
    assert [(f.path, f.before) for f in orphan.fields] == [
        (("bytes",), 6),
        (("upload",), "roma--roma--old.md"),
    ]
    assert stray.id not in left
    assert {f.id for f in others} <= left
    assert {f.id for f in roma.attached()} <= left and len(left) == 4
    assert roma.plan().in_sync


def test_uploads_in_use_need_no_listing_of_the_store(sandbox, tmp_path):
    roma = shop(tmp_path, sandbox)
    roma.apply()
    listings = roma.count("GET /v1/vector_stores/{vector_store_id}/files")

    plan = roma.plan()

    assert plan.in_sync
    assert roma.count("GET /v1/vector_stores/{vector_store_id}/files") == listings


# --- Waiting for OpenAI to index ------------------------------------------------------------

EMPTY_REASON = "roma/empty.md (invalid_file: The file could not be parsed because it is empty.)"


def test_apply_waits_until_openai_has_indexed_every_file(start_sandbox, tmp_path):
    sandbox = start_sandbox(file_processing_seconds=0.4)
    roma = shop(tmp_path, sandbox)
    started = time.monotonic()

    roma.apply()
    waited = time.monotonic() - started
    (applied,) = roma.applied
    (store,) = sandbox.openai().vector_stores.list()

    assert waited >= 0.4
    assert (store.file_counts.completed, store.file_counts.in_progress) == (2, 0)
    assert (applied.remote_id, applied.status, applied.notice) == (store.id, "completed", None)
    assert roma.progress == ["waiting for OpenAI to index 2 files of roma…"]
    assert roma.count("GET /v1/vector_stores/{vector_store_id}") <= 5  # polls back off


def test_wait_is_bounded_and_the_plan_then_says_what_is_still_indexing(start_sandbox, tmp_path):
    sandbox = start_sandbox(file_processing_seconds=60)
    roma = shop(tmp_path, sandbox, index_wait=IndexWait(timeout=0.3, first_poll=0.05))
    started = time.monotonic()

    roma.apply()
    waited = time.monotonic() - started
    (applied,) = roma.applied
    later = roma.plan()
    (noop,) = later.changes

    assert 0.3 <= waited < 3
    assert applied.status == "in_progress"
    assert "OpenAI is still indexing 2 files of 2" in applied.notice
    assert later.in_sync and noop.action is Action.NOOP
    assert "OpenAI is still indexing 2 files of 2" in noop.notice


def test_file_openai_fails_is_reported_and_uploaded_again_only_when_it_changes(sandbox, tmp_path):
    roma = shop(tmp_path, sandbox)
    roma.write("empty.md", "")
    roma.listing("menu.md", "drinks.md", "empty.md")
    roma.apply()
    (applied,) = roma.applied
    uploads = roma.count("POST /v1/files")

    again = roma.apply()
    (noop,) = again.changes

    assert EMPTY_REASON in applied.notice
    assert again.in_sync and noop.action is Action.NOOP
    assert EMPTY_REASON in noop.notice and EMPTY_REASON in render_text(again)
    assert roma.count("POST /v1/files") == uploads

    roma.write("empty.md", "# Ahora con contenido\n")
    (change,) = roma.apply().changes
    (fixed,) = roma.applied
    after = roma.plan()

    assert [f.path for f in change.fields] == [("files", "roma/empty.md")]
    assert roma.count("POST /v1/files") == uploads + 1
    assert (fixed.status, fixed.notice) == ("completed", None)
    assert after.in_sync and after.changes[0].notice is None
    assert sorted(f.status for f in roma.attached()) == ["completed"] * 3


def test_removing_another_file_keeps_the_failed_one_and_its_notice(sandbox, tmp_path):
    roma = shop(tmp_path, sandbox)
    roma.write("empty.md", "")
    roma.listing("menu.md", "drinks.md", "empty.md")
    roma.apply()
    roma.listing("menu.md", "empty.md")

    (change,) = roma.apply().changes
    (applied,) = roma.applied

    assert [(f.path, f.after) for f in change.fields] == [(("files", "roma/drinks.md"), None)]
    assert EMPTY_REASON in applied.notice
    assert sorted(f.attributes["path"] for f in roma.attached()) == [
        "roma/empty.md",
        "roma/menu.md",
    ]


# --- Creates whose answer is lost -----------------------------------------------------------

# With this rate and seed exactly the first request fails and the next 199 are served (the
# next test proves it): a fault that hits the first attempt, not the look that follows it.
ONLY_THE_FIRST = {"fail_rate": 0.02, "seed": 2202}


def test_only_the_first_seed_fails_exactly_the_first_request():
    faults = Faults()
    faults.update({**ONLY_THE_FIRST, "status": 500})

    assert [faults.failure("/v1/files") for _ in range(200)] == [500] + [None] * 199


def in_sync_with_one_store(roma: Shop) -> str:
    """Assert the apply left one store holding both files, the plan in sync; its id."""
    openai = roma.sandbox.openai()
    (store,) = openai.vector_stores.list()
    assert vector_store_ids(openai) == {"roma": store.id}  # what the webhook searches
    assert sorted(f.attributes["path"] for f in roma.attached()) == [
        "roma/drinks.md", "roma/menu.md",
    ]  # fmt: skip
    assert len(list(openai.files.list())) == 2  # no stray upload
    assert roma.plan().in_sync
    return store.id


def test_store_create_whose_connection_drops_leaves_one_store(sandbox, tmp_path):
    roma = shop(tmp_path, sandbox)
    plan = roma.plan()
    sandbox.faults(phase="after", drop=True, paths=["/v1/vector_stores"], **ONLY_THE_FIRST)

    roma.apply_plan(plan)

    assert roma.count("POST /v1/vector_stores") == 1
    assert roma.applied[0].remote_id == in_sync_with_one_store(roma)


def lift_faults_once_received(sandbox, route: str) -> threading.Thread:
    """Clear the faults once `route` has been received (its answer is already held back)."""

    def lift() -> None:
        deadline = time.monotonic() + 10
        while not sandbox.requests()["by_route"].get(route) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)  # past its handler: the held answer keeps its latency
        sandbox.faults(latency_ms=0, phase="before")

    thread = threading.Thread(target=lift, daemon=True)
    thread.start()
    return thread


def test_store_create_that_times_out_leaves_one_store(sandbox, tmp_path):
    roma = shop(tmp_path, sandbox, timeout=0.5)
    plan = roma.plan()
    sandbox.faults(phase="after", latency_ms=3000, paths=["/v1/vector_stores"])
    lifter = lift_faults_once_received(sandbox, "POST /v1/vector_stores")

    roma.apply_plan(plan)
    lifter.join()

    assert roma.count("POST /v1/vector_stores") == 1
    assert roma.applied[0].remote_id == in_sync_with_one_store(roma)


def test_upload_whose_connection_drops_is_found_not_repeated(sandbox, tmp_path):
    roma = shop(tmp_path, sandbox)
    plan = roma.plan()
    sandbox.faults(phase="after", drop=True, paths=["/v1/files"], **ONLY_THE_FIRST)

    roma.apply_plan(plan)

    assert roma.count("POST /v1/files") == 2  # one per file: the lost one was found
    in_sync_with_one_store(roma)


def test_attach_answered_with_a_500_after_it_took_effect_is_found_not_repeated(sandbox, tmp_path):
    roma = shop(tmp_path, sandbox)
    plan = roma.plan()
    sandbox.faults(phase="after", status=500, paths=["/v1/vector_stores/"], **ONLY_THE_FIRST)

    roma.apply_plan(plan)

    assert roma.count("POST /v1/vector_stores/{vector_store_id}/files") == 2
    assert roma.count("GET /v1/vector_stores/{vector_store_id}/files/{file_id}") == 1
    in_sync_with_one_store(roma)


def test_reconcile_tells_the_operator_on_stderr_what_it_waits_for(sandbox, tmp_path, monkeypatch):
    roma = shop(tmp_path, sandbox)
    for name, value in sandbox.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HORIZON_PUBLIC_URL", "https://bots.example.com")
    monkeypatch.setenv("HORIZON_CLIENTS_DIR", str(roma.directory))
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the apply lock file lives here

    result = CliRunner().invoke(main, ["reconcile", "--yes", "--output", "json"])

    assert result.exit_code == 0, result.output
    assert "waiting for OpenAI to index 2 files of roma…" in result.stderr
    assert "waiting" not in result.stdout  # the JSON document stays clean
    [outcome] = [
        o for o in json.loads(result.stdout)["apply"]["outcomes"] if o["kind"] == "knowledge"
    ]
    assert (outcome["ok"], outcome["status"]) == (True, "completed")
