"""The assistant's model: the knowledge store a turn searches is the one reconcile manages,
the parameters a request carries, and which responses are unusable."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path

import pytest
from openai.types.responses import Response

from horizon.config.client import Client
from horizon.config.loader import load_fleet
from horizon.store import AsyncStore, Store
from horizon.vendors.openai_sdk import async_openai_client
from horizon.vendors.retry import RetryPolicy
from horizon.vendors.vector_stores import vector_store_ids
from horizon.worker.model import AssistantModel, ModelReply, unusable_reason

from .conftest import FAST_POLICY, Clock, inbound

CLIENT = """\
name: Pizzería Roma
number: "+34910000101"
assistant:
  instructions: Eres el asistente de Pizzería Roma.
  knowledge: [menu.md]
"""


def test_turns_search_the_same_knowledge_store_as_reconcile(sandbox, tmp_path):
    (tmp_path / "pizzeria-roma.yaml").write_text(CLIENT, encoding="utf-8")
    (tmp_path / "menu.md").write_text("Margherita 9 €", encoding="utf-8")
    client = load_fleet(tmp_path).fleet.by_id["pizzeria-roma"]
    openai = sandbox.openai()
    mark = {"managed_by": "horizon", "client": "pizzeria-roma"}
    older = openai.vector_stores.create(name="horizon:pizzeria-roma", metadata=mark)
    newer = openai.vector_stores.create(name="horizon:pizzeria-roma", metadata=mark)
    openai.vector_stores.create(name="other", metadata={"client": "pizzeria-roma"})
    policy = RetryPolicy(attempts=2, base_delay=0.01)

    async def store_searched() -> str | None:
        async_openai = async_openai_client(sandbox.settings())
        listing = functools.partial(vector_store_ids, openai, policy)
        model = AssistantModel(async_openai, store=None, policy=policy, list_knowledge=listing)
        try:
            return await model.knowledge_store(client)
        finally:
            await async_openai.close()

    searched = asyncio.run(store_searched())

    assert searched == vector_store_ids(openai)["pizzeria-roma"]
    assert searched == newer.id  # the newest of two marked stores, as reconcile picks it
    assert searched != older.id


def test_a_conversation_lasts_while_the_user_keeps_writing_and_renews_after_silence(
    sandbox, pipeline
):
    clock = Clock()
    user = "+34600000001"
    conversations: list[str] = []

    async def talk() -> None:
        built = pipeline(clock)
        try:
            for n, days_later in enumerate((0, 6, 6, 8)):
                clock.advance(days=days_later)
                built.store.queue.record_inbound(inbound(f"SM{n:032d}", user, f"hola {n}", clock()))
                [item] = built.store.queue.pending_work("pizzeria-roma", user)
                await built.answer([item])
                conversations.append(built.store.users.conversation("pizzeria-roma", user)[0])
        finally:
            await built.close()

    asyncio.run(talk())

    first, six_days_on, twelve_days_on, after_eight_silent = conversations
    assert first == six_days_on == twelve_days_on  # never 7 days of silence
    assert after_eight_silent != first  # 8 days of silence: a fresh conversation
    replies = [reply["body"] for reply in sandbox.messages(direction="outbound-api")]
    assert [f"hola {n}" in body for n, body in enumerate(replies)] == [True] * 4


def test_knowledge_stores_are_listed_once_for_concurrent_turns_and_missing_stores(
    sandbox, tmp_path
):
    (tmp_path / "pizzeria-roma.yaml").write_text(CLIENT, encoding="utf-8")
    (tmp_path / "menu.md").write_text("Margherita 9 €", encoding="utf-8")
    client = load_fleet(tmp_path).fleet.by_id["pizzeria-roma"]  # knowledge, but no store yet
    policy = RetryPolicy(attempts=2, base_delay=0.01)

    async def many_turns() -> list[str | None]:
        async_openai = async_openai_client(sandbox.settings())
        listing = functools.partial(vector_store_ids, sandbox.openai(), policy)
        model = AssistantModel(async_openai, store=None, policy=policy, list_knowledge=listing)
        try:
            found = await asyncio.gather(*(model.knowledge_store(client) for _ in range(20)))
            for _ in range(5):  # later turns of the same client
                found.append(await model.knowledge_store(client))
            return found
        finally:
            await async_openai.close()

    found = asyncio.run(many_turns())

    assert found == [None] * 25
    assert sandbox.requests()["by_route"]["GET /v1/vector_stores"] == 1


REPO_CLIENTS = Path(__file__).parents[2] / "clients"


def answers(sandbox, tmp_path, clients: list[Client]) -> list[ModelReply]:
    """Each client's model reply to "hola", through AssistantModel and the sandbox."""

    async def ask() -> list[ModelReply]:
        store = Store.open(f"sqlite:///{tmp_path}/horizon.db")
        async_openai = async_openai_client(sandbox.settings(), max_retries=0)
        model = AssistantModel(async_openai, AsyncStore(store), FAST_POLICY, lambda: {})
        try:
            return [await model.answer(client, "+34600000001", "hola") for client in clients]
        finally:
            await async_openai.close()
            store.close()

    return asyncio.run(ask())


def test_the_example_clients_send_only_what_their_models_accept_and_are_answered(sandbox, tmp_path):
    loaded = load_fleet(REPO_CLIENTS)
    assert loaded.ok and not loaded.warnings
    clients = sorted(loaded.fleet, key=lambda client: client.id)

    replies = answers(sandbox, tmp_path, clients)

    # What the sandbox received, as its stored responses echo it.
    stored = [sandbox.openai().responses.retrieve(reply.response_id) for reply in replies]
    assert [(c.id, r.temperature, r.reasoning.effort, r.max_output_tokens) for c, r in
            zip(clients, stored, strict=True)] == [
        ("farmacia-sol", 0.2, "none", 500),
        ("harbor-hardware", 1.0, "low", 1000),  # temperature not sent: the default echoed
        ("pizzeria-roma", 0.4, "none", 600),
    ]  # fmt: skip
    assert all(r.status == "completed" and 'You said: "hola"' in r.output_text for r in stored)
    assert [reply.unusable for reply in replies] == [None, None, None]
    assert [reply.reasoning_tokens for reply in replies] == [0, 64, 0]


CLIENT_TEMPLATE = """\
name: Test Client
number: "+34910000101"
assistant:
  instructions: Eres el asistente de Pizzería Roma.
"""


@pytest.mark.parametrize(
    ("fields", "temperature", "effort"),
    [
        # gpt-5.4-mini: temperature without an effort goes with an explicit `none` (the
        # sandbox, like OpenAI, documents no default for it and refuses it otherwise).
        ("  temperature: 0.4\n", 0.4, "none"),
        ("  model: gpt-5.1-2025-11-13\n  temperature: 0.3\n", 0.3, "none"),
        ("  model: gpt-4.1-mini\n  temperature: 0.2\n", 0.2, None),  # `reasoning` would be a 400
        ("  model: gpt-5-nano\n  reasoning_effort: minimal\n", 1.0, "minimal"),
        ("  model: gpt-5-mini\n", 1.0, "medium"),  # nothing sent: the model's default
    ],
)
def test_a_request_carries_exactly_the_parameters_its_model_accepts(
    sandbox, tmp_path, fields, temperature, effort
):
    (tmp_path / "clients").mkdir()
    (tmp_path / "clients" / "test-client.yaml").write_text(CLIENT_TEMPLATE + fields)
    loaded = load_fleet(tmp_path / "clients")
    assert loaded.ok, loaded.errors

    [reply] = answers(sandbox, tmp_path, list(loaded.fleet))

    stored = sandbox.openai().responses.retrieve(reply.response_id)
    assert (stored.temperature, stored.reasoning.effort) == (temperature, effort)
    assert stored.status == "completed" and reply.unusable is None


def response(status: str, text: str | None, incomplete: str | None = None) -> Response:
    """A Responses API object as the SDK parses it (its JSON shape, per the SDK's model)."""
    content = [{"type": "output_text", "text": text, "annotations": []}]
    message = {"id": "msg_1", "type": "message", "role": "assistant", "status": status,
               "content": content}  # fmt: skip
    return Response.model_validate(
        {"id": "resp_1", "object": "response", "created_at": 0, "model": "gpt-5.4-mini",
         "status": status, "output": [message] if text is not None else [],
         "incomplete_details": {"reason": incomplete} if incomplete else None,
         "parallel_tool_calls": True, "tool_choice": "auto", "tools": []}
    )  # fmt: skip


@pytest.mark.parametrize(
    ("status", "text", "incomplete", "reason"),
    [
        ("completed", "Hola", None, None),
        ("completed", " \n", None, "no_text"),
        ("completed", None, None, "no_text"),
        ("incomplete", None, "max_output_tokens", "max_output_tokens"),
        ("incomplete", "Hola, abrimos a las", "max_output_tokens", "max_output_tokens"),
        ("incomplete", "", "content_filter", "content_filter"),
        ("incomplete", "Ho", None, "incomplete"),
        ("failed", None, None, "failed"),
    ],
)
def test_a_response_cut_short_or_without_text_is_unusable(status, text, incomplete, reason):
    assert unusable_reason(response(status, text, incomplete)) == reason


def conversation_inputs(sandbox, conversation_id: str) -> list[str]:
    items = sandbox.openai().conversations.items.list(conversation_id, order="asc", limit=100)
    return [
        part.text
        for item in items.data
        if item.type == "message" and item.role == "user"
        for part in item.content
    ]


@pytest.mark.parametrize("lost", [{"status": 500}, {"drop": True}])
def test_a_response_whose_answer_was_lost_is_read_back_not_asked_twice(sandbox, pipeline, lost):
    user = "+34600000001"
    sandbox.inbound(user, "+34910000101", "hola")
    # The first /v1/responses call is answered by the model, then its answer is lost.
    sandbox.faults(
        phase="after", fail_rate=0.5, seed=1, retry_after=0, paths=["/v1/responses"], **lost
    )

    async def turn() -> tuple[str, list[str]]:
        built = pipeline()
        try:
            built.store.queue.record_inbound(inbound("SM" + "c" * 32, user, "¿Abrís hoy?", 0.0))
            await built.answer(built.store.queue.pending_work("pizzeria-roma", user))
            conversation = built.store.users.conversation("pizzeria-roma", user)[0]
            return conversation, [
                m["body"] for m in built.store.find_messages(direction="outbound")
            ]
        finally:
            await built.close()

    conversation, sent = asyncio.run(turn())

    sandbox.faults(fail_rate=0)
    assert conversation_inputs(sandbox, conversation) == ["¿Abrís hoy?"]  # asked once
    assert len(sent) == 1 and "¿Abrís hoy?" in sent[0]  # and answered with that answer
    routes = sandbox.requests()["by_route"]
    assert routes["POST /v1/responses"] == 1
