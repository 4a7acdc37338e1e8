"""OpenAI Responses: a deterministic 'model' that tests can assert on.

The reply quotes the instructions' first line and the user's latest text; with file_search
it also names the files of the vector stores it was allowed to search. Only models the
sandbox serves answer, with the parameters their family accepts (`openai_models`); a
reasoning model first spends a fixed number of reasoning tokens per effort, which count
against `max_output_tokens`. While a response is being generated (the injected latency),
its conversation is locked, as the real API locks it: an overlapping call on the same
conversation gets `conversation_locked`.
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
from horizon.sandbox.openai_models import (
    REASONING_TOKENS,
    check_sampling,
    effective_effort,
    model_not_found,
    served_model,
)
from horizon.sandbox.openai_vector_stores import get_store, render_file, store_files

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
    top_p: float | None
    effort: str | None  # the effort it runs at; None for a model that does not reason
    metadata: dict
    truncation: str
    previous_response_id: str | None


def parse_request(body: dict) -> ResponseRequest:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise missing("model")
    served = served_model(model)
    if served is None:
        raise model_not_found(model)
    effort = effective_effort(served, body.get("reasoning"))
    temperature = _sampling(body.get("temperature"), "temperature", 2)
    top_p = _sampling(body.get("top_p"), "top_p", 1)
    check_sampling(served, effort, "temperature", temperature)
    check_sampling(served, effort, "top_p", top_p)
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
        temperature=temperature,
        top_p=top_p,
        effort=effort,
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


def _sampling(value: object, name: str, highest: int) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= highest:
        raise invalid(
            f"Invalid '{name}': expected a number between 0 and {highest}, got {value}.", name
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
    """The files file_search can draw on: only those indexed ("`completed` indicates that the
    vector store file is ready for use", VectorStoreFileObject.status in OpenAI's spec)."""
    now = time.time()
    files: list[dict] = []
    for vector_store_id in vector_store_ids:
        for attached in sandbox.world.all(store_files(vector_store_id)):
            if render_file(attached, now)["status"] == "completed":
                files.append(attached)
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
    reasoning = REASONING_TOKENS[request.effort] if request.effort else 0
    budget = request.max_output_tokens
    status, incomplete = "completed", None
    if budget is not None and reasoning + count_tokens(reply) > budget:
        # The budget covers "visible output tokens and reasoning tokens" (CreateResponse):
        # reasoning comes first, and may leave nothing for the reply.
        reasoning = min(reasoning, budget)
        reply = reply[: (budget - reasoning) * 4]
        status, incomplete = "incomplete", {"reason": "max_output_tokens"}
    output = _output_items(reply, status, user_text, files, reasoning)
    input_tokens = count_tokens(request.instructions) + sum(
        count_tokens(text_of(item)) for item in [*history, *request.items]
    )
    usage = {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": reasoning + count_tokens(reply),
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": input_tokens + reasoning + count_tokens(reply),
    }
    return _response_object(request, output, status, incomplete, usage)


def _output_items(
    reply: str, status: str, query: str, files: list[dict] | None, reasoning: int
) -> list[dict]:
    """Reasoning (when any was spent), the file search, then the message (when any text)."""
    output = []
    if reasoning:
        output.append(
            {"id": new_id("rs_"), "type": "reasoning", "summary": [],
             "encrypted_content": "gAAAAA" + new_id("", 64),
             "status": "completed" if reply else status}
        )  # fmt: skip
    if files is not None:
        output.append(
            {"id": new_id("fs_"), "type": "file_search_call", "status": "completed",
             "queries": [query], "results": None}
        )  # fmt: skip
    if not reply:
        return output
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
    request: ResponseRequest, output: list[dict], status: str, incomplete: dict | None, usage: dict
) -> dict:
    now = time.time()
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
        "reasoning": {"effort": request.effort, "summary": None},
        "service_tier": "default",
        "store": True,
        "temperature": 1.0 if request.temperature is None else request.temperature,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": request.tools,
        "top_p": 1.0 if request.top_p is None else request.top_p,
        "truncation": request.truncation,
        "usage": usage,
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
        resp.media = self._found(response_id)

    async def on_delete(self, req, resp, response_id: str) -> None:
        """The stored response goes. Whether OpenAI also takes its items out of the
        conversation they were added to is not documented: here they stay (`horizon
        forget` deletes the conversation itself)."""
        self._found(response_id)
        self.sandbox.world.delete(RESPONSES, response_id)
        # The body of the spec's example (deleteResponse in tests/contracts/openai).
        resp.media = {"id": response_id, "object": "response", "deleted": True}

    def _found(self, response_id: str) -> dict:
        response = self.sandbox.world.get(RESPONSES, response_id)
        if response is None:
            raise not_found(f"Response with id '{response_id}' not found.")
        return response
