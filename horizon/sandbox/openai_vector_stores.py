"""OpenAI vector stores and their files.

An attached file is `in_progress` until `file_processing_seconds` after it was attached,
then `completed`, or `failed` with a `last_error` when its content cannot be indexed (an
empty file). Its record keeps the outcome and when it is due, so the status is derived on
every read and survives restarts; a store's `file_counts` and `status` follow its files.
"""

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
FILE_STATUSES = ("in_progress", "completed", "failed", "cancelled")
# OpenAI documents the codes (server_error, unsupported_file, invalid_file), not their
# messages; this one follows the message seen for a file too large to index, "The file
# could not be parsed because it is too large." (openai/openai-openapi#300).
EMPTY_FILE_ERROR = {
    "code": "invalid_file",
    "message": "The file could not be parsed because it is empty.",
}


def store_files(vector_store_id: str) -> str:
    """The collection holding one vector store's files."""
    return f"vector_store_files:{vector_store_id}"


def render_file(record: dict, now: float | None = None) -> dict:
    """An attached file as the API shows it at `now`: in progress until it is due."""
    shown = public(record)
    due = record.get("_processed_at")
    if due is not None and (time.time() if now is None else now) < due:
        # Nothing is indexed yet: no usage and no verdict (the SDK's LastError is nullable).
        return {**shown, "status": "in_progress", "last_error": None, "usage_bytes": 0}
    return shown


def render_store(sandbox: Sandbox, record: dict) -> dict:
    now = time.time()
    files = [
        render_file(attached, now) for attached in sandbox.world.all(store_files(record["id"]))
    ]
    counts = dict.fromkeys(FILE_STATUSES, 0)
    for attached in files:
        counts[attached["status"]] += 1
    return {
        **record,
        # "in_progress" while any file is being processed, as OpenAI reports a store.
        "status": "in_progress" if counts["in_progress"] else "completed",
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


def attributes_param(body: dict) -> dict | None:
    """Validate `attributes` within the limits of the spec's VectorStoreFileAttributes.

    At most 16 keys (maxProperties) of at most 64 characters (propertyNames); each value a
    string of at most 512 characters, a number or a boolean.
    """
    attributes = body.get("attributes")
    if attributes is None:
        return None
    if not isinstance(attributes, dict) or len(attributes) > 16:
        raise invalid(
            "Invalid 'attributes': expected an object with at most 16 keys.", "attributes"
        )
    for key, value in attributes.items():
        too_long = isinstance(value, str) and len(value) > 512
        if len(key) > 64 or too_long or not isinstance(value, str | int | float | bool):
            raise invalid(
                f"Invalid 'attributes.{key}': keys are at most 64 characters and values are "
                "strings of at most 512 characters, numbers or booleans.",
                "attributes",
            )
    return attributes


def attach_file(sandbox: Sandbox, vector_store_id: str, file_id: object, body: dict) -> dict:
    if not isinstance(file_id, str) or not file_id:
        raise missing("file_id")
    attributes = attributes_param(body)
    uploaded = sandbox.world.get(FILES, file_id)
    if uploaded is None:
        raise not_found(f"No file found with id '{file_id}'.", param="file_id")
    collection = store_files(vector_store_id)
    existing = sandbox.world.get(collection, file_id)
    if existing is not None:
        return existing
    now = time.time()
    empty = uploaded["bytes"] == 0
    record = {
        "id": file_id,
        "object": "vector_store.file",
        "created_at": int(now),
        "usage_bytes": 0 if empty else uploaded["bytes"],
        "vector_store_id": vector_store_id,
        # The outcome once processed; `render_file` shows in_progress until then.
        "status": "failed" if empty else "completed",
        "last_error": EMPTY_FILE_ERROR if empty else None,
        "attributes": attributes,
        "chunking_strategy": body.get("chunking_strategy") or DEFAULT_CHUNKING,
        "_filename": uploaded["filename"],
        "_processed_at": now + sandbox.options.file_processing_seconds,
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
        attached = attach_file(self.sandbox, vector_store_id, body.get("file_id"), body)
        resp.media = render_file(attached)

    async def on_get(self, req, resp, vector_store_id: str) -> None:
        get_store(self.sandbox, vector_store_id)
        status = req.get_param("filter")
        if status is not None and status not in FILE_STATUSES:
            raise invalid(
                f"Invalid value for 'filter': '{status}'. Expected one of "
                f"{', '.join(FILE_STATUSES)}.",
                "filter",
            )
        now = time.time()
        shown = [render_file(r, now) for r in self.sandbox.world.all(store_files(vector_store_id))]
        records = [record for record in shown if not status or record["status"] == status]
        resp.media = cursor_page(req, records, render=lambda record: record)


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
        resp.media = render_file(self._record(vector_store_id, file_id))

    async def on_post(self, req, resp, vector_store_id: str, file_id: str) -> None:
        record = self._record(vector_store_id, file_id)
        body = await read_json(req)
        updated = {**record, "attributes": attributes_param(body)}
        resp.media = render_file(
            self.sandbox.world.put(store_files(vector_store_id), file_id, updated)
        )

    async def on_delete(self, req, resp, vector_store_id: str, file_id: str) -> None:
        self._record(vector_store_id, file_id)
        self.sandbox.world.delete(store_files(vector_store_id), file_id)
        resp.media = {"id": file_id, "object": "vector_store.file.deleted", "deleted": True}
