"""The assistant's model: one OpenAI Responses call per turn, in the pair's conversation.

Conversations are created on first contact and renewed after `memory_days` of silence
(counted from the pair's last finished turn);
`file_search` covers the client's knowledge vector store: the one reconcile manages, found
by `horizon.vendors.vector_stores.vector_store_ids` and cached.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openai
from openai.types.responses import Response

from horizon.config.client import Client
from horizon.config.models import request_parameters
from horizon.store.aio import AsyncStore
from horizon.store.records import Usage, WorkItem
from horizon.vendors.errors import BusyError, VendorError, vendor_errors
from horizon.vendors.retry import RetryPolicy, call_async

DAY = 86400.0
KNOWLEDGE_CACHE_SECONDS = 300.0


@dataclass(frozen=True)
class ModelReply:
    text: str
    usage: Usage
    response_id: str | None  # None: read back from the conversation after a lost answer
    unusable: str | None = None  # why the reply must not reach the user (see unusable_reason)
    reasoning_tokens: int = 0


def unusable_reason(response: Response) -> str | None:
    """Why a response cannot be sent as it is, or None when it can.

    An `incomplete` response was cut short (its reason: `max_output_tokens`, which
    includes reasoning tokens, `content_filter`…), so even its text is only a part; a
    response without text would be an empty message.
    """
    if response.status == "incomplete":
        details = response.incomplete_details
        return (details.reason if details else None) or "incomplete"
    if response.status not in (None, "completed"):
        return response.status  # failed, cancelled…: nothing to send
    if not response.output_text.strip():
        return "no_text"
    return None


def _reply(client: Client, response: Response) -> ModelReply:
    usage = response.usage
    return ModelReply(
        text=response.output_text,
        usage=Usage(
            client.assistant.model,
            usage.input_tokens if usage else 0,
            usage.output_tokens if usage else 0,
        ),
        response_id=response.id,
        unusable=unusable_reason(response),
        reasoning_tokens=usage.output_tokens_details.reasoning_tokens if usage else 0,
    )


def _item_text(item: Any, part_type: str) -> str:
    return "".join(part.text for part in item.content or [] if part.type == part_type)


def _recovered(client: Client, item: Any) -> ModelReply:
    """A reply read back from the conversation: its text, but no usage (items carry none)."""
    text = _item_text(item, "output_text")
    unusable = "incomplete" if item.status == "incomplete" else None
    if unusable is None and not text.strip():
        unusable = "no_text"
    return ModelReply(text, Usage(client.assistant.model, 0, 0), None, unusable)


def user_text(items: list[WorkItem]) -> str:
    """The turn's messages as one user message; media is described, not sent."""
    lines = []
    for item in items:
        for media in item.media:
            kind = media.content_type.split("/")[0]
            noun = {"image": "an image", "audio": "an audio message", "video": "a video"}.get(
                kind, "a file"
            )
            lines.append(f"[The user sent {noun} ({media.content_type}); you cannot see it.]")
        if item.body.strip():
            lines.append(item.body.strip())
    return "\n".join(lines)


class AssistantModel:
    """Answers a turn for a client, keeping each (client, user) in its own conversation."""

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        store: AsyncStore,
        policy: RetryPolicy,
        list_knowledge: Callable[[], dict[str, str]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`list_knowledge()` maps client ids to vector store ids (`vector_store_ids`).

        `clock` (epoch seconds) measures `memory_days`; the store records activity by its own.
        """
        self.openai, self.store, self.policy = client, store, policy
        self.clock = clock
        self._list_knowledge = list_knowledge
        # The SDK builds its resources on first use: built now, they join the start-up heap.
        self._responses, self._conversations = client.responses, client.conversations
        self._knowledge: dict[str, str] = {}
        self._knowledge_at = float("-inf")
        self._knowledge_lock = asyncio.Lock()

    async def answer(self, client: Client, user_number: str, text: str) -> ModelReply:
        """The model's reply; raises VendorError once retries are exhausted."""
        conversation_id = await self.conversation(client, user_number)
        request = {
            "model": client.assistant.model,
            "instructions": client.assistant.instructions,
            "input": [{"role": "user", "content": text}],
            "conversation": conversation_id,
            "truncation": "auto",
            "metadata": {"client": client.id},
            **request_parameters(client.assistant),
        }
        store_id = await self.knowledge_store(client)
        if store_id:
            request["tools"] = [{"type": "file_search", "vector_store_ids": [store_id]}]

        async def create() -> ModelReply:
            return _reply(client, await self._create_response(request))

        async def look() -> ModelReply | None:
            return await self._answer_already_there(client, conversation_id, text)

        # Not idempotent: after an ambiguous failure the conversation may already hold this
        # input and its answer, and a second request would put the input there twice.
        return await call_async(create, self.policy, recover=look)

    async def _create_response(self, request: dict) -> Response:
        try:
            with vendor_errors():
                return await self._responses.create(**request)
        except VendorError as error:
            if error.code == "conversation_locked":
                # Another call on this conversation is still running (perhaps our own
                # earlier attempt): worth waiting for, and looking at before repeating.
                raise BusyError.like(error) from error
            raise

    async def _answer_already_there(
        self, client: Client, conversation_id: str, text: str
    ) -> ModelReply | None:
        """The answer an earlier attempt left in the conversation, or None if it left none.

        Newest first: assistant messages newer than the latest user message answer it; if
        that user message is this turn's input, they are this turn's answer. This input with
        no answer yet means the earlier attempt is still running: wait for it (BusyError).
        A user who sends the very same text twice in a row, with the second request lost
        before it landed, would get the first answer again: the price of not repeating.
        """
        with vendor_errors():
            page = await self._conversations.items.list(conversation_id, order="desc", limit=20)
        answers = []
        for item in page.data:
            if getattr(item, "type", None) != "message":
                continue
            if item.role == "assistant":
                answers.append(item)
            elif item.role == "user":
                if _item_text(item, "input_text") != text:
                    return None  # the newest input is not this turn's: it never landed
                if not answers:
                    raise BusyError("openai", "the earlier attempt is still answering")
                return _recovered(client, answers[0])  # the newest: the final answer
        return None

    async def conversation(self, client: Client, user_number: str) -> str:
        """The pair's conversation id, created on first contact or after `memory_days`.

        The silence is counted from the pair's last activity: the store moves it forward
        each time a turn of the pair finishes.
        """
        known = await self.store.users.conversation(client.id, user_number)
        if known and self.clock() - known[1] < client.assistant.memory_days * DAY:
            return known[0]

        async def create():
            with vendor_errors():
                return await self._conversations.create(
                    metadata={"client": client.id, "managed_by": "horizon"}
                )

        created = await call_async(create, self.policy)
        await self.store.users.save_conversation(client.id, user_number, created.id)
        return created.id

    async def knowledge_store(self, client: Client) -> str | None:
        """The client's knowledge vector store id, from one cached listing of all stores.

        One listing serves every turn until it expires, a client without a store yet
        included; turns arriving together wait for the one listing under way.
        """
        if not client.assistant.knowledge:
            return None
        if not self._knowledge_fresh():
            async with self._knowledge_lock:
                if not self._knowledge_fresh():
                    # Reconcile's own listing, so the store a turn searches is the one
                    # reconcile manages; it pages with retries on a thread, off the loop.
                    self._knowledge = await asyncio.to_thread(self._list_knowledge)
                    self._knowledge_at = time.monotonic()
        return self._knowledge.get(client.id)

    def _knowledge_fresh(self) -> bool:
        return time.monotonic() - self._knowledge_at <= KNOWLEDGE_CACHE_SECONDS
