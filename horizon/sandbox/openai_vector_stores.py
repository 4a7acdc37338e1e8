"""OpenAI vector stores and their files. Files are 'processed' at once; counts are derived."""

from __future__ import annotations

import time

import falcon

from horizon.sandbox.context import Sandbox
from horizon.sandbox.openai_api import (
    cursor_page,
    invalid,
    metadata_param,
    missing,
    new_id,
    not_found,
    read_json,
)
from horizon.sandbox.openai_files import FILES
from horizon.sandbox.world import public

VECTOR_STORES = "vector_stores"
DEFAULT_CHUNKING = {
    "type": "static",
    "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400},
}


def store_files(vector_store_id: str) -> str:
    """The collection holding one vector store's files."""
    return f"vector_store_files:{vector_store_id}"


def render_store(sandbox: Sandbox, record: dict) -> dict:
    files = sandbox.world.all(store_files(record["id"]))
    counts = {"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 0}
    for attached in files:
        counts[attached["status"]] += 1
    return {
        **record,
        "file_counts": {**counts, "total": len(files)},
        "usage_bytes": sum(attached["usage_bytes"] for attached in files),
    }


def get_store(sandbox: Sandbox, vector_store_id: str) -> dict:
    record = sandbox.world.get(VECTOR_STORES, vector_store_id)
    if record is None:
        raise not_found(f"No vector store found with id '{vector_store_id}'.")
    return record


def _expires_after(body: dict) -> dict | None:
    expires_after = body.get("expires_after")
    if expires_after is None:
        return None
    if (
        not isinstance(expires_after, dict)
        or expires_after.get("anchor") != "last_active_at"
        or not isinstance(expires_after.get("days"), int)
        or not 1 <= expires_after["days"] <= 365
    ):
        raise invalid(
            "Invalid 'expires_after': expected {anchor: 'last_active_at', days: 1..365}.",
            "expires_after",
        )
    return {"anchor": "last_active_at", "days": expires_after["days"]}


def attach_file(sandbox: Sandbox, vector_store_id: str, file_id: object, body: dict) -> dict:
    if not isinstance(file_id, str) or not file_id:
        raise missing("file_id")
    uploaded = sandbox.world.get(FILES, file_id)
    if uploaded is None:
        raise not_found(f"No file found with id '{file_id}'.", param="file_id")
    collection = store_files(vector_store_id)
    existing = sandbox.world.get(collection, file_id)
    if existing is not None:
        return existing
    record = {
        "id": file_id,
        "object": "vector_store.file",
        "created_at": int(time.time()),
        "usage_bytes": uploaded["bytes"],
        "vector_store_id": vector_store_id,
        "status": "completed",
        "last_error": None,
        "attributes": body.get("attributes"),
        "chunking_strategy": body.get("chunking_strategy") or DEFAULT_CHUNKING,
        "_filename": uploaded["filename"],
    }
    return sandbox.world.put(collection, file_id, record)


class VectorStores:
    """/v1/vector_stores"""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = await read_json(req)
        file_ids = body.get("file_ids") or []
        if not isinstance(file_ids, list):
            raise invalid("Invalid 'file_ids': expected an array of file ids.", "file_ids")
        now = int(time.time())
        record = {
            "id": new_id("vs_", 32),
            "object": "vector_store",
            "created_at": now,
            "name": str(body.get("name") or ""),
            "description": body.get("description"),
            "status": "completed",
            "expires_after": _expires_after(body),
            "expires_at": None,
            "last_active_at": now,
            "metadata": metadata_param(body) or {},
        }
        for file_id in file_ids:  # checked before anything is stored
            if self.sandbox.world.get(FILES, file_id) is None:
                raise not_found(f"No file found with id '{file_id}'.", param="file_ids")
        self.sandbox.world.put(VECTOR_STORES, record["id"], record)
        for file_id in file_ids:
            attach_file(self.sandbox, record["id"], file_id, {})
        resp.media = render_store(self.sandbox, record)

    async def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        records = self.sandbox.world.all(VECTOR_STORES)
        resp.media = cursor_page(req, records, render=lambda r: render_store(self.sandbox, r))


class VectorStore:
    """/v1/vector_stores/{vector_store_id}"""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_get(self, req, resp, vector_store_id: str) -> None:
        resp.media = render_store(self.sandbox, get_store(self.sandbox, vector_store_id))

    async def on_post(self, req, resp, vector_store_id: str) -> None:
        record = dict(get_store(self.sandbox, vector_store_id))
        body = await read_json(req)
        if "name" in body and body["name"] is not None:
            record["name"] = str(body["name"])
        if body.get("metadata") is not None:
            record["metadata"] = metadata_param(body)
        if "expires_after" in body:
            record["expires_after"] = _expires_after(body)
        record["last_active_at"] = int(time.time())
        self.sandbox.world.put(VECTOR_STORES, vector_store_id, record)
        resp.media = render_store(self.sandbox, record)

    async def on_delete(self, req, resp, vector_store_id: str) -> None:
        get_store(self.sandbox, vector_store_id)
        self.sandbox.world.delete(VECTOR_STORES, vector_store_id)
        self.sandbox.world.drop(store_files(vector_store_id))
        resp.media = {"id": vector_store_id, "object": "vector_store.deleted", "deleted": True}


class VectorStoreFiles:
    """/v1/vector_stores/{vector_store_id}/files"""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_post(self, req, resp, vector_store_id: str) -> None:
        get_store(self.sandbox, vector_store_id)
        body = await read_json(req)
        resp.media = public(attach_file(self.sandbox, vector_store_id, body.get("file_id"), body))

    async def on_get(self, req, resp, vector_store_id: str) -> None:
        get_store(self.sandbox, vector_store_id)
        status = req.get_param("filter")
        records = [
            record
            for record in self.sandbox.world.all(store_files(vector_store_id))
            if not status or record["status"] == status
        ]
        resp.media = cursor_page(req, records)


class VectorStoreFile:
    """/v1/vector_stores/{vector_store_id}/files/{file_id}"""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def _record(self, vector_store_id: str, file_id: str) -> dict:
        get_store(self.sandbox, vector_store_id)
        record = self.sandbox.world.get(store_files(vector_store_id), file_id)
        if record is None:
            raise not_found(f"No file '{file_id}' in vector store '{vector_store_id}'.")
        return record

    async def on_get(self, req, resp, vector_store_id: str, file_id: str) -> None:
        resp.media = public(self._record(vector_store_id, file_id))

    async def on_post(self, req, resp, vector_store_id: str, file_id: str) -> None:
        record = self._record(vector_store_id, file_id)
        body = await read_json(req)
        updated = {**record, "attributes": body.get("attributes")}
        resp.media = public(self.sandbox.world.put(store_files(vector_store_id), file_id, updated))

    async def on_delete(self, req, resp, vector_store_id: str, file_id: str) -> None:
        self._record(vector_store_id, file_id)
        self.sandbox.world.delete(store_files(vector_store_id), file_id)
        resp.media = {"id": file_id, "object": "vector_store.file.deleted", "deleted": True}
