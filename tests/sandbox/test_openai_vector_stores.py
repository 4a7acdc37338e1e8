"""OpenAI vector stores and their files through the unmodified openai SDK."""

from __future__ import annotations

import io

import openai
import pytest
from openai.types import VectorStore


def upload(client, name: str, content: bytes = b"knowledge"):
    return client.files.create(file=(name, io.BytesIO(content)), purpose="assistants")


def test_vector_store_keeps_name_metadata_and_counts_its_files(sandbox):
    client = sandbox.openai()
    menu = upload(client, "menu.md", b"12345")

    store = client.vector_stores.create(
        name="pizzeria-roma",
        metadata={"managed_by": "horizon", "client": "pizzeria-roma"},
        file_ids=[menu.id],
    )

    assert store.id.startswith("vs_") and store.status == "completed"
    assert store.metadata == {"managed_by": "horizon", "client": "pizzeria-roma"}
    assert (store.file_counts.total, store.file_counts.completed, store.usage_bytes) == (1, 1, 5)


def test_attaching_and_detaching_files_keeps_file_counts_right(sandbox):
    client = sandbox.openai()
    store = client.vector_stores.create(name="shop")
    menu, hours = upload(client, "menu.md"), upload(client, "hours.md")

    attached = client.vector_stores.files.create(vector_store_id=store.id, file_id=menu.id)
    client.vector_stores.files.create(vector_store_id=store.id, file_id=hours.id)
    assert client.vector_stores.retrieve(store.id).file_counts.total == 2

    deleted = client.vector_stores.files.delete(file_id=menu.id, vector_store_id=store.id)

    assert attached.status == "completed" and attached.vector_store_id == store.id
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
