"""OpenAI Conversations (create, retrieve, update, delete) and their items."""

from __future__ import annotations

import time

import falcon

from horizon.sandbox.context import Sandbox
from horizon.sandbox.openai_api import (
    cursor_page,
    invalid,
    metadata_param,
    new_id,
    not_found,
    read_json,
)

CONVERSATIONS = "conversations"
ROLES = ("user", "assistant", "system", "developer")
MAX_NEW_ITEMS = 20


def conversation_items(conversation_id: str) -> str:
    """The collection holding one conversation's items, oldest first."""
    return f"conversation_items:{conversation_id}"


def get_conversation(sandbox: Sandbox, conversation_id: str) -> dict:
    record = sandbox.world.get(CONVERSATIONS, conversation_id)
    if record is None:
        raise not_found(f"Conversation with id '{conversation_id}' not found.")
    return record


def normalize_items(raw: object, param: str) -> list[dict]:
    """Input items as stored: every message gets an id, a status and typed content parts."""
    if not isinstance(raw, list):
        raise invalid(f"Invalid '{param}': expected an array of items.", param)
    items = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise invalid(f"Invalid '{param}[{index}]': expected an object.", f"{param}[{index}]")
        if item.get("type", "message") != "message":
            items.append({"id": new_id("item_"), "status": "completed", **item})
            continue
        role = item.get("role")
        if role not in ROLES:
            raise invalid(
                f"Invalid value for '{param}[{index}].role': expected one of {', '.join(ROLES)}.",
                f"{param}[{index}].role",
            )
        content = _content_parts(item.get("content"), role, f"{param}[{index}].content")
        items.append(
            {"id": new_id("msg_"), "type": "message", "status": "completed", "role": role,
             "content": content}
        )  # fmt: skip
    return items


def _content_parts(content: object, role: str, param: str) -> list[dict]:
    text_type = "output_text" if role == "assistant" else "input_text"
    if isinstance(content, str):
        content = [{"type": text_type, "text": content}]
    if not isinstance(content, list) or not all(isinstance(p, dict) for p in content):
        raise invalid(f"Invalid '{param}': expected a string or an array of parts.", param)
    parts = []
    for part in content:
        if part.get("type") in ("input_text", "output_text", "text") and not isinstance(
            part.get("text"), str
        ):
            raise invalid(f"Invalid '{param}': a text part needs 'text'.", param)
        if part.get("type") == "output_text":
            part = {"annotations": [], **part}
        parts.append(part)
    return parts


def text_of(item: dict) -> str:
    """The text a message item carries (its text parts joined)."""
    content = item.get("content")
    if not isinstance(content, list):
        return ""
    return " ".join(part["text"] for part in content if isinstance(part.get("text"), str))


def append_items(sandbox: Sandbox, conversation_id: str, items: list[dict]) -> None:
    collection = conversation_items(conversation_id)
    for item in items:
        sandbox.world.put(collection, item["id"], item)


def _item_list(items: list[dict]) -> dict:
    return {
        "object": "list",
        "data": items,
        "first_id": items[0]["id"] if items else None,
        "last_id": items[-1]["id"] if items else None,
        "has_more": False,
    }


class Conversations:
    """/v1/conversations"""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = await read_json(req)
        items = normalize_items(body.get("items") or [], "items")
        if len(items) > MAX_NEW_ITEMS:
            raise invalid(f"Invalid 'items': at most {MAX_NEW_ITEMS} items at a time.", "items")
        record = {
            "id": new_id("conv_"),
            "object": "conversation",
            "created_at": int(time.time()),
            "metadata": metadata_param(body) or {},
        }
        self.sandbox.world.put(CONVERSATIONS, record["id"], record)
        append_items(self.sandbox, record["id"], items)
        resp.media = record


class Conversation:
    """/v1/conversations/{conversation_id}"""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_get(self, req, resp, conversation_id: str) -> None:
        resp.media = get_conversation(self.sandbox, conversation_id)

    async def on_post(self, req, resp, conversation_id: str) -> None:
        record = get_conversation(self.sandbox, conversation_id)
        body = await read_json(req)
        if "metadata" not in body:
            raise invalid("Missing required parameter: 'metadata'.", "metadata")
        updated = {**record, "metadata": metadata_param(body) or {}}
        resp.media = self.sandbox.world.put(CONVERSATIONS, conversation_id, updated)

    async def on_delete(self, req, resp, conversation_id: str) -> None:
        get_conversation(self.sandbox, conversation_id)
        self.sandbox.world.delete(CONVERSATIONS, conversation_id)
        self.sandbox.world.drop(conversation_items(conversation_id))
        resp.media = {"id": conversation_id, "object": "conversation.deleted", "deleted": True}


class ConversationItems:
    """/v1/conversations/{conversation_id}/items"""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_get(self, req, resp, conversation_id: str) -> None:
        get_conversation(self.sandbox, conversation_id)
        items = self.sandbox.world.all(conversation_items(conversation_id))
        resp.media = cursor_page(req, items)

    async def on_post(self, req, resp, conversation_id: str) -> None:
        get_conversation(self.sandbox, conversation_id)
        body = await read_json(req)
        items = normalize_items(body.get("items"), "items")
        if not items or len(items) > MAX_NEW_ITEMS:
            raise invalid(f"Invalid 'items': give 1 to {MAX_NEW_ITEMS} items.", "items")
        append_items(self.sandbox, conversation_id, items)
        resp.media = _item_list(items)


class ConversationItem:
    """/v1/conversations/{conversation_id}/items/{item_id}"""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def _item(self, conversation_id: str, item_id: str) -> dict:
        get_conversation(self.sandbox, conversation_id)
        item = self.sandbox.world.get(conversation_items(conversation_id), item_id)
        if item is None:
            raise not_found(f"Item with id '{item_id}' not found.")
        return item

    async def on_get(self, req, resp, conversation_id: str, item_id: str) -> None:
        resp.media = self._item(conversation_id, item_id)

    async def on_delete(self, req, resp, conversation_id: str, item_id: str) -> None:
        self._item(conversation_id, item_id)
        self.sandbox.world.delete(conversation_items(conversation_id), item_id)
        resp.media = get_conversation(self.sandbox, conversation_id)
