"""OpenAI Files through the unmodified openai SDK."""

from __future__ import annotations

import io

import openai
import pytest
from openai.types import FileObject


def upload(client, name: str = "menu.md", content: bytes = b"# Menu\nMargherita 9 EUR\n"):
    return client.files.create(file=(name, io.BytesIO(content)), purpose="assistants")


def test_uploaded_file_is_retrievable_with_its_size_and_content(sandbox):
    client = sandbox.openai()

    uploaded = upload(client)

    assert uploaded.id.startswith("file-")
    assert (uploaded.filename, uploaded.bytes, uploaded.purpose) == ("menu.md", 24, "assistants")
    assert client.files.retrieve(uploaded.id) == uploaded
    assert client.files.content(uploaded.id).read() == b"# Menu\nMargherita 9 EUR\n"


def test_raw_file_json_validates_against_the_sdk_model(sandbox):
    uploaded = upload(sandbox.openai())
    raw = sandbox.http.get(
        f"/v1/files/{uploaded.id}", headers={"Authorization": f"Bearer {sandbox.openai_key}"}
    ).json()
    assert FileObject.model_validate(raw).id == uploaded.id


def test_list_pages_with_after_cursor(sandbox):
    client = sandbox.openai()
    uploaded = [upload(client, f"doc-{i}.md") for i in range(5)]

    page = client.files.list(limit=2, order="asc")
    everything = list(client.files.list(limit=2, order="asc"))

    assert page.has_more is True and len(page.data) == 2
    assert [f.id for f in everything] == [f.id for f in uploaded]
    assert [f.id for f in client.files.list(purpose="batch")] == []


def test_deleted_file_is_gone(sandbox):
    client = sandbox.openai()
    uploaded = upload(client)

    deleted = client.files.delete(uploaded.id)

    assert deleted.deleted is True and deleted.id == uploaded.id
    with pytest.raises(openai.NotFoundError) as raised:
        client.files.retrieve(uploaded.id)
    assert raised.value.body["message"] == f"No such File object: {uploaded.id}"


@pytest.mark.invalid_vendor_requests
def test_upload_without_purpose_is_a_400(sandbox):
    response = sandbox.http.post(
        "/v1/files",
        files={"file": ("menu.md", b"x")},
        headers={"Authorization": f"Bearer {sandbox.openai_key}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "purpose"


@pytest.mark.invalid_vendor_requests
def test_upload_that_is_not_multipart_is_a_400(sandbox):
    response = sandbox.http.post(
        "/v1/files", json={"purpose": "assistants"},
        headers={"Authorization": f"Bearer {sandbox.openai_key}"},
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
