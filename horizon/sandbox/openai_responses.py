"""OpenAI Responses: a deterministic 'model' that tests can assert on.

The reply quotes the instructions' first line and the user's latest text; with file_search
it also names the files of the vector stores it was allowed to search. While a response
is being generated (the injected latency), its conversation is locked, as the real API
locks it: an overlapping call on the same conversation gets `conversation_locked`.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass

import falcon

from horizon.sandbox.context import Sandbox
from horizon.sandbox.openai_api import (
    OpenAIError,
    invalid,
    metadata_param,
    missing,
    new_id,
    not_found,
    read_json,
)
from horizon.sandbox.openai_conversations import (
    append_items,
    conversation_items,
    get_conversation,
    normalize_items,
    text_of,
)
from horizon.sandbox.openai_vector_stores import get_store, store_files

RESPONSES = "responses"
MIN_OUTPUT_TOKENS = 16


@dataclass(frozen=True)
class ResponseRequest:
    model: str
    instructions: str | None
    items: list[dict]
    conversation_id: str | None
    tools: list[dict]
    vector_store_ids: list[str]
    max_output_tokens: int | None
    temperature: float | None
    metadata: dict
    truncation: str
    previous_response_id: str | None


def parse_request(body: dict) -> ResponseRequest:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise missing("model")
    raw_input = body.get("input")
    if raw_input is None:
        raise missing("input")
    if isinstance(raw_input, str):
        raw_input = [{"role": "user", "content": raw_input}]
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise invalid("Invalid 'instructions': expected a string.", "instructions")
    tools = body.get("tools") or []
    if not isinstance(tools, list) or not all(isinstance(tool, dict) for tool in tools):
        raise invalid("Invalid 'tools': expected an array of tools.", "tools")
    truncation = body.get("truncation") or "disabled"
    if truncation not in ("auto", "disabled"):
        raise invalid("Invalid 'truncation': expected 'auto' or 'disabled'.", "truncation")
    conversation_id = _conversation_id(body.get("conversation"))
    if conversation_id and body.get("previous_response_id"):
        raise invalid(
            "Mutually exclusive parameters: 'previous_response_id' and 'conversation'.",
            "conversation",
        )
    return ResponseRequest(
        model=model,
        instructions=instructions,
        items=normalize_items(raw_input, "input"),
        conversation_id=conversation_id,
        tools=tools,
        vector_store_ids=_vector_store_ids(tools),
        max_output_tokens=_max_output_tokens(body.get("max_output_tokens")),
        temperature=_temperature(body.get("temperature")),
        metadata=metadata_param(body) or {},
        truncation=truncation,
        previous_response_id=body.get("previous_response_id"),
    )


def _conversation_id(conversation: object) -> str | None:
    if isinstance(conversation, dict):
        conversation = conversation.get("id")
    if conversation is None:
        return None
    if not isinstance(conversation, str) or not conversation:
        raise invalid("Invalid 'conversation': expected an id or {id}.", "conversation")
    return conversation


def _vector_store_ids(tools: list[dict]) -> list[str]:
    ids: list[str] = []
    for index, tool in enumerate(tools):
        if tool.get("type") != "file_search":
            continue
        store_ids = tool.get("vector_store_ids")
        if not isinstance(store_ids, list) or not all(isinstance(i, str) for i in store_ids):
            raise invalid(
                f"Invalid 'tools[{index}].vector_store_ids': expected an array of ids.",
                f"tools[{index}].vector_store_ids",
            )
        ids.extend(store_ids)
    return ids


def _max_output_tokens(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < MIN_OUTPUT_TOKENS:
        raise invalid(
            "Invalid 'max_output_tokens': integer below minimum value. "
            f"Expected a value >= {MIN_OUTPUT_TOKENS}, but got {value} instead.",
            "max_output_tokens",
            code="integer_below_min_value",
        )
    return value


def _temperature(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 2:
        raise invalid(
            f"Invalid 'temperature': expected a number between 0 and 2, got {value}.",
            "temperature",
        )
    return float(value)


def count_tokens(text: str | None) -> int:
    """About four characters per token, as OpenAI's rule of thumb has it."""
    return math.ceil(len(text) / 4) if text else 0


def compose_reply(instructions: str | None, user_text: str, files: list[str] | None) -> str:
    lines = (instructions or "").strip().splitlines()
    parts = [lines[0].strip()] if lines else []
    parts.append(f'You said: "{user_text}"')
    if files is not None:
        parts.append("Knowledge: " + (", ".join(files) if files else "(no files)"))
    return " | ".join(parts)


def _searchable_files(sandbox: Sandbox, vector_store_ids: list[str]) -> list[dict]:
    files: list[dict] = []
    for vector_store_id in vector_store_ids:
        files.extend(sandbox.world.all(store_files(vector_store_id)))
    return sorted(files, key=lambda attached: (attached["_filename"], attached["id"]))


def _latest_user_text(items: list[dict]) -> str:
    for item in reversed(items):
        if item.get("type") == "message" and item.get("role") == "user":
            return text_of(item)
    return ""


def generate(sandbox: Sandbox, request: ResponseRequest) -> dict:
    """The response object for a request whose conversation and stores exist."""
    history = (
        sandbox.world.all(conversation_items(request.conversation_id))
        if request.conversation_id
        else []
    )
    user_text = _latest_user_text(request.items) or _latest_user_text(history)
    files = (
        _searchable_files(sandbox, request.vector_store_ids) if request.vector_store_ids else None
    )
    names = [attached["_filename"] for attached in files] if files is not None else None
    reply = compose_reply(request.instructions, user_text, names)
    status, incomplete = "completed", None
    if request.max_output_tokens is not None and count_tokens(reply) > request.max_output_tokens:
        reply = reply[: request.max_output_tokens * 4]
        status, incomplete = "incomplete", {"reason": "max_output_tokens"}
    output = _output_items(reply, status, user_text, files)
    input_tokens = count_tokens(request.instructions) + sum(
        count_tokens(text_of(item)) for item in [*history, *request.items]
    )
    return _response_object(request, output, status, incomplete, input_tokens, reply)


def _output_items(reply: str, status: str, query: str, files: list[dict] | None) -> list[dict]:
    output = []
    if files is not None:
        output.append(
            {"id": new_id("fs_"), "type": "file_search_call", "status": "completed",
             "queries": [query], "results": None}
        )  # fmt: skip
    citations = [
        {"type": "file_citation", "file_id": attached["id"], "filename": attached["_filename"],
         "index": len(reply)}
        for attached in files or []
    ]  # fmt: skip
    output.append(
        {
            "id": new_id("msg_"),
            "type": "message",
            "role": "assistant",
            "status": status,
            "content": [
                {"type": "output_text", "text": reply, "annotations": citations, "logprobs": []}
            ],
        }
    )
    return output


def _response_object(
    request: ResponseRequest,
    output: list[dict],
    status: str,
    incomplete: dict | None,
    input_tokens: int,
    reply: str,
) -> dict:
    now = time.time()
    output_tokens = count_tokens(reply)
    return {
        "id": new_id("resp_"),
        "object": "response",
        "created_at": int(now),
        "completed_at": int(now),
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": incomplete,
        "instructions": request.instructions,
        "max_output_tokens": request.max_output_tokens,
        "max_tool_calls": None,
        "model": request.model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": request.previous_response_id,
        "conversation": {"id": request.conversation_id} if request.conversation_id else None,
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": True,
        "temperature": 1.0 if request.temperature is None else request.temperature,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": request.tools,
        "top_p": 1.0,
        "truncation": request.truncation,
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
        "user": None,
        "metadata": request.metadata,
    }


class Responses:
    """/v1/responses"""

    # The injected latency is generation time, spent here while the conversation is locked.
    simulates_work = True

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        request = parse_request(await read_json(req))
        for vector_store_id in request.vector_store_ids:
            get_store(self.sandbox, vector_store_id)
        conversation_id = request.conversation_id
        if conversation_id is None:
            await asyncio.sleep(self.sandbox.faults.latency(req.path))
            resp.media = self._store(generate(self.sandbox, request))
            return
        get_conversation(self.sandbox, conversation_id)
        busy = self.sandbox.busy_conversations
        if conversation_id in busy:
            raise OpenAIError(
                400,
                "Another process is currently operating on this conversation. "
                "Please retry in a few seconds.",
                param="conversation",
                code="conversation_locked",
            )
        busy.add(conversation_id)
        try:
            await asyncio.sleep(self.sandbox.faults.latency(req.path))
            response = generate(self.sandbox, request)
            append_items(self.sandbox, conversation_id, [*request.items, *response["output"]])
        finally:
            busy.discard(conversation_id)
        resp.media = self._store(response)

    def _store(self, response: dict) -> dict:
        return self.sandbox.world.put(RESPONSES, response["id"], response)


class Response:
    """/v1/responses/{response_id}"""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_get(self, req, resp, response_id: str) -> None:
        response = self.sandbox.world.get(RESPONSES, response_id)
        if response is None:
            raise not_found(f"Response with id '{response_id}' not found.")
        resp.media = response
