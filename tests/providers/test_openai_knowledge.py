"""The knowledge provider against the sandbox: files tracked by sha256, uploaded when changed."""

from __future__ import annotations

from pathlib import Path

from horizon.config.loader import load_fleet
from horizon.providers.openai_knowledge import OpenAIKnowledge, manifest
from horizon.reconcile.plan import diff
from horizon.reconcile.resources import Action
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

    def __init__(self, tmp_path: Path, sandbox) -> None:
        self.directory = tmp_path / "clients"
        (self.directory / "roma").mkdir(parents=True)
        self.sandbox = sandbox
        self.knowledge = OpenAIKnowledge(
            sandbox.openai(max_retries=0), RetryPolicy(base_delay=0.01)
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
        plan = self.plan(prune)
        for change in plan.to_apply:
            self.knowledge.apply(change)
        return plan

    def count(self, route: str) -> int:
        return self.sandbox.requests()["by_route"].get(route, 0)

    def attached(self) -> list:
        openai = self.sandbox.openai()
        (store,) = openai.vector_stores.list()
        return list(openai.vector_stores.files.list(store.id))


def shop(tmp_path, sandbox) -> Shop:
    made = Shop(tmp_path, sandbox)
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

    (change,) = roma.apply().changes

    assert [(f.path, f.before) for f in change.fields] == [(("files", "roma/drinks.md"), None)]
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
