"""OpenAI Files: upload (multipart), retrieve, list, delete, and read back the content."""

from __future__ import annotations

import base64
import time

import falcon

from horizon.sandbox.context import Sandbox
from horizon.sandbox.openai_api import cursor_page, invalid, missing, new_id, not_found

FILES = "files"
FILE_CONTENTS = "file_contents"
PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")


async def _multipart(req: falcon.Request) -> dict[str, object]:
    """The form's fields: text values as str, the uploaded file as (filename, bytes)."""
    if not (req.content_type or "").startswith("multipart/form-data"):
        raise invalid("Expected a multipart/form-data request body.")
    fields: dict[str, object] = {}
    try:
        form = await req.get_media()
        async for part in form:
            data = await part.get_data()
            if part.filename is not None:
                fields[part.name] = (part.filename, data)
            else:
                fields[part.name] = data.decode("utf-8")
    except (falcon.MediaMalformedError, falcon.HTTPBadRequest, UnicodeDecodeError) as error:
        raise invalid("The multipart body could not be parsed.") from error
    return fields


def file_record(file_id: str, filename: str, size: int, purpose: str) -> dict:
    return {
        "id": file_id,
        "object": "file",
        "bytes": size,
        "created_at": int(time.time()),
        "filename": filename,
        "purpose": purpose,
        "status": "processed",
        "expires_at": None,
        "status_details": None,
    }


class Files:
    """/v1/files"""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        fields = await _multipart(req)
        upload, purpose = fields.get("file"), fields.get("purpose")
        if not isinstance(upload, tuple):
            raise missing("file")
        if not purpose:
            raise missing("purpose")
        if purpose not in PURPOSES:
            raise invalid(
                f"Invalid value for 'purpose': '{purpose}'. Expected one of {', '.join(PURPOSES)}.",
                param="purpose",
            )
        filename, data = upload
        record = file_record(new_id("file-", 22), filename or "upload", len(data), str(purpose))
        encoded = base64.b64encode(data).decode()
        self.sandbox.world.put(FILE_CONTENTS, record["id"], {"data": encoded})
        resp.media = self.sandbox.world.put(FILES, record["id"], record)

    async def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        purpose = req.get_param("purpose")
        records = [
            record
            for record in self.sandbox.world.all(FILES)
            if not purpose or record["purpose"] == purpose
        ]
        resp.media = cursor_page(req, records, max_limit=10_000)


def _file(sandbox: Sandbox, file_id: str) -> dict:
    record = sandbox.world.get(FILES, file_id)
    if record is None:
        raise not_found(f"No such File object: {file_id}", param="id")
    return record


class File:
    """/v1/files/{file_id}"""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_get(self, req: falcon.Request, resp: falcon.Response, file_id: str) -> None:
        resp.media = _file(self.sandbox, file_id)

    async def on_delete(self, req: falcon.Request, resp: falcon.Response, file_id: str) -> None:
        _file(self.sandbox, file_id)
        self.sandbox.world.delete(FILES, file_id)
        self.sandbox.world.delete(FILE_CONTENTS, file_id)
        resp.media = {"id": file_id, "object": "file", "deleted": True}


class FileContent:
    """/v1/files/{file_id}/content"""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_get(self, req: falcon.Request, resp: falcon.Response, file_id: str) -> None:
        _file(self.sandbox, file_id)
        content = self.sandbox.world.get(FILE_CONTENTS, file_id) or {"data": ""}
        resp.content_type = "application/octet-stream"
        resp.data = base64.b64decode(content["data"])
