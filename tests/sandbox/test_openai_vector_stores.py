"""OpenAI vector stores and their files through the unmodified openai SDK."""

from __future__ import annotations

import io
import time

import openai
import pytest
from openai.types import VectorStore
from openai.types.vector_stores import VectorStoreFile


def upload(client, name: str, content: bytes = b"knowledge"):
    return client.files.create(file=(name, io.BytesIO(content)), purpose="assistants")


def counts(client, store_id: str) -> tuple[int, int, int, int]:
    """A store's (in_progress, completed, failed, total) file counts."""
    c = client.vector_stores.retrieve(store_id).file_counts
    return (c.in_progress, c.completed, c.failed, c.total)


def wait_until_processed(client, store_id: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while client.vector_stores.retrieve(store_id).file_counts.in_progress:
        assert time.monotonic() < deadline, "files still in progress"
        time.sleep(0.02)


def test_vector_store_keeps_name_metadata_and_counts_its_files(start_sandbox):
    client = start_sandbox(file_processing_seconds=0).openai()
    menu = upload(client, "menu.md", b"12345")

    store = client.vector_stores.create(
        name="pizzeria-roma",
        metadata={"managed_by": "horizon", "client": "pizzeria-roma"},
        file_ids=[menu.id],
    )

    assert store.id.startswith("vs_") and store.status == "completed"
    assert store.metadata == {"managed_by": "horizon", "client": "pizzeria-roma"}
    assert (store.file_counts.total, store.file_counts.completed, store.usage_bytes) == (1, 1, 5)


def test_attached_file_is_in_progress_until_processed_then_completed(start_sandbox):
    client = start_sandbox(file_processing_seconds=0.3).openai()
    store = client.vector_stores.create(name="shop")
    menu = upload(client, "menu.md", b"12345")
    started = time.monotonic()

    attached = client.vector_stores.files.create(vector_store_id=store.id, file_id=menu.id)
    busy = client.vector_stores.retrieve(store.id)
    wait_until_processed(client, store.id)
    waited = time.monotonic() - started
    done = client.vector_stores.files.retrieve(menu.id, vector_store_id=store.id)

    assert (attached.status, attached.last_error, attached.usage_bytes) == ("in_progress", None, 0)
    assert busy.status == "in_progress"
    assert (busy.file_counts.in_progress, busy.file_counts.completed) == (1, 0)
    assert waited >= 0.3
    assert (done.status, done.usage_bytes) == ("completed", 5)
    assert counts(client, store.id) == (0, 1, 0, 1)
    assert client.vector_stores.retrieve(store.id).status == "completed"


def test_empty_file_fails_with_invalid_file_once_processed(start_sandbox):
    client = start_sandbox(file_processing_seconds=0.1).openai()
    store = client.vector_stores.create(name="shop")
    empty = upload(client, "empty.md", b"")

    client.vector_stores.files.create(vector_store_id=store.id, file_id=empty.id)
    wait_until_processed(client, store.id)
    failed = client.vector_stores.files.retrieve(empty.id, vector_store_id=store.id)

    assert failed.status == "failed"
    assert failed.last_error.code == "invalid_file"
    assert failed.last_error.message == "The file could not be parsed because it is empty."
    assert counts(client, store.id) == (0, 0, 1, 1)
    assert client.vector_stores.retrieve(store.id).status == "completed"
    listed = client.vector_stores.files.list(store.id, filter="failed")
    assert [f.id for f in listed] == [empty.id]


@pytest.mark.invalid_vendor_requests
def test_file_list_filters_by_the_status_shown_now(start_sandbox):
    client = start_sandbox(file_processing_seconds=60).openai()
    store = client.vector_stores.create(name="shop")
    menu = upload(client, "menu.md")
    client.vector_stores.files.create(vector_store_id=store.id, file_id=menu.id)

    in_progress = client.vector_stores.files.list(store.id, filter="in_progress")
    completed = client.vector_stores.files.list(store.id, filter="completed")

    assert [f.id for f in in_progress] == [menu.id] and list(completed) == []
    with pytest.raises(openai.BadRequestError) as raised:
        client.vector_stores.files.list(store.id, filter="done")  # type: ignore[arg-type]
    assert raised.value.body["param"] == "filter"


def test_processing_is_timed_from_the_attach_so_it_survives_a_restart(start_sandbox, tmp_path):
    state = str(tmp_path / "world.db")
    first = start_sandbox(state_path=state, file_processing_seconds=3.0)
    client = first.openai()
    store = client.vector_stores.create(name="shop")
    menu = upload(client, "menu.md")
    client.vector_stores.files.create(vector_store_id=store.id, file_id=menu.id)
    first.close()

    # The new process would take a minute for a new file; this one was due 3 s after it came.
    again = start_sandbox(state_path=state, file_processing_seconds=60).openai()
    assert counts(again, store.id) == (1, 0, 0, 1)
    wait_until_processed(again, store.id)

    assert counts(again, store.id) == (0, 1, 0, 1)


def test_raw_file_json_validates_against_the_sdk_model(sandbox):
    client = sandbox.openai()
    store = client.vector_stores.create(name="shop")
    menu = upload(client, "menu.md")
    client.vector_stores.files.create(
        vector_store_id=store.id, file_id=menu.id, attributes={"path": "a/menu.md", "n": 1}
    )

    raw = sandbox.http.get(
        f"/v1/vector_stores/{store.id}/files/{menu.id}",
        headers={"Authorization": f"Bearer {sandbox.openai_key}"},
    ).json()

    assert VectorStoreFile.model_validate(raw).attributes == {"path": "a/menu.md", "n": 1}
    assert not any(name.startswith("_") for name in raw)


@pytest.mark.invalid_vendor_requests
@pytest.mark.parametrize(
    "attributes",
    [
        {f"k{i}": "v" for i in range(17)},
        {"k" * 65: "v"},
        {"path": "p" * 513},
        {"path": ["a list"]},
    ],
    ids=["17 keys", "key of 65", "value of 513", "list value"],
)
def test_attributes_beyond_openai_limits_are_a_400(sandbox, attributes):
    client = sandbox.openai()
    store = client.vector_stores.create(name="shop")
    menu = upload(client, "menu.md")

    with pytest.raises(openai.BadRequestError) as raised:
        client.vector_stores.files.create(
            vector_store_id=store.id, file_id=menu.id, attributes=attributes
        )

    assert raised.value.body["param"] == "attributes"
    assert list(client.vector_stores.files.list(store.id)) == []


def test_attributes_at_openai_limits_are_accepted(sandbox):
    client = sandbox.openai()
    store = client.vector_stores.create(name="shop")
    menu = upload(client, "menu.md")
    attributes = {f"{i:02d}" + "k" * 62: "v" * 512 for i in range(16)}

    attached = client.vector_stores.files.create(
        vector_store_id=store.id, file_id=menu.id, attributes=attributes
    )

    assert attached.attributes == attributes


def test_attaching_and_detaching_files_keeps_file_counts_right(sandbox):
    client = sandbox.openai()
    store = client.vector_stores.create(name="shop")
    menu, hours = upload(client, "menu.md"), upload(client, "hours.md")

    attached = client.vector_stores.files.create(vector_store_id=store.id, file_id=menu.id)
    client.vector_stores.files.create(vector_store_id=store.id, file_id=hours.id)
    assert client.vector_stores.retrieve(store.id).file_counts.total == 2

    deleted = client.vector_stores.files.delete(file_id=menu.id, vector_store_id=store.id)

    assert attached.vector_store_id == store.id
    assert deleted.deleted is True
    assert [f.id for f in client.vector_stores.files.list(store.id)] == [hours.id]
    assert client.vector_stores.retrieve(store.id).file_counts.total == 1


def test_update_changes_name_and_metadata(sandbox):
    client = sandbox.openai()
    store = client.vector_stores.create(name="old", metadata={"client": "a"})

    updated = client.vector_stores.update(store.id, name="new", metadata={"client": "b"})

    assert (updated.name, updated.metadata) == ("new", {"client": "b"})
    assert client.vector_stores.retrieve(store.id).name == "new"


def test_list_pages_with_has_more_and_after(sandbox):
    client = sandbox.openai()
    created = [client.vector_stores.create(name=f"store-{i}") for i in range(5)]

    first = client.vector_stores.list(limit=2)
    everything = list(client.vector_stores.list(limit=2))

    assert first.has_more is True
    assert [s.id for s in first.data] == [created[4].id, created[3].id]  # newest first
    assert [s.id for s in everything] == [s.id for s in reversed(created)]
    routes = sandbox.requests()["by_route"]
    assert routes["GET /v1/vector_stores"] == 4  # first page, then 3 pages of the iteration


def test_list_json_carries_first_and_last_ids(sandbox):
    client = sandbox.openai()
    created = [client.vector_stores.create(name=f"store-{i}") for i in range(3)]

    raw = sandbox.http.get(
        "/v1/vector_stores?limit=2&order=asc",
        headers={"Authorization": f"Bearer {sandbox.openai_key}"},
    ).json()

    assert (raw["first_id"], raw["last_id"]) == (created[0].id, created[1].id)
    assert raw["has_more"] is True
    assert all(VectorStore.model_validate(item) for item in raw["data"])


def test_deleted_vector_store_is_gone_with_its_files(sandbox):
    client = sandbox.openai()
    store = client.vector_stores.create(name="gone", file_ids=[upload(client, "a.md").id])

    assert client.vector_stores.delete(store.id).deleted is True

    with pytest.raises(openai.NotFoundError):
        client.vector_stores.retrieve(store.id)
    with pytest.raises(openai.NotFoundError):
        client.vector_stores.files.list(store.id)


def test_attaching_an_unknown_file_is_a_404(sandbox):
    client = sandbox.openai()
    store = client.vector_stores.create(name="shop")
    with pytest.raises(openai.NotFoundError):
        client.vector_stores.files.create(vector_store_id=store.id, file_id="file-missing")


def test_too_many_metadata_keys_is_a_400(sandbox):
    with pytest.raises(openai.BadRequestError) as raised:
        sandbox.openai().vector_stores.create(metadata={f"k{i}": "v" for i in range(17)})
    assert raised.value.body["param"] == "metadata"
