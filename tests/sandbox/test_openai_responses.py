"""OpenAI Responses: the deterministic reply, usage, conversations, file_search, locking,
and the parameters and reasoning tokens of each model family."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest
from openai.types.responses import Response

INSTRUCTIONS = "Eres el asistente de Pizzería Roma.\nResponde en español, breve y amable."
NO_REASONING = {"effort": "none"}


def test_reply_quotes_the_instructions_first_line_and_the_user(sandbox):
    response = sandbox.openai().responses.create(
        model="gpt-5.4-mini", instructions=INSTRUCTIONS, input="¿Abrís hoy?"
    )

    assert response.output_text == 'Eres el asistente de Pizzería Roma. | You said: "¿Abrís hoy?"'
    assert response.status == "completed" and response.model == "gpt-5.4-mini"


def test_usage_counts_input_and_output_tokens(sandbox):
    response = sandbox.openai().responses.create(
        model="gpt-5.4-mini", instructions=INSTRUCTIONS, input="hola"
    )

    usage = response.usage
    assert usage.input_tokens > 0 and usage.output_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens


def test_turns_are_appended_to_the_conversation(sandbox):
    client = sandbox.openai()
    conversation = client.conversations.create()

    client.responses.create(
        model="gpt-5.4-mini",
        instructions=INSTRUCTIONS,
        input="hola",
        conversation=conversation.id,
        reasoning=NO_REASONING,
    )
    second = client.responses.create(
        model="gpt-5.4-mini",
        reasoning=NO_REASONING,
        instructions=INSTRUCTIONS,
        input=[{"role": "user", "content": "¿y mañana?"}],
        conversation={"id": conversation.id},
    )

    items = list(client.conversations.items.list(conversation.id, order="asc"))
    assert [(item.role, item.content[0].text) for item in items] == [
        ("user", "hola"),
        ("assistant", 'Eres el asistente de Pizzería Roma. | You said: "hola"'),
        ("user", "¿y mañana?"),
        ("assistant", second.output_text),
    ]
    assert second.conversation.id == conversation.id
    assert second.usage.input_tokens > 0


def test_file_search_names_only_the_indexed_files_of_the_given_stores(start_sandbox):
    sandbox = start_sandbox(file_processing_seconds=0)
    client = sandbox.openai()

    def store_with(*names: str) -> str:
        files = [
            client.files.create(file=(name, io.BytesIO(b"x")), purpose="assistants").id
            for name in names
        ]
        return client.vector_stores.create(name="kb", file_ids=files).id

    roma, farmacia = store_with("menu.md", "horario.md"), store_with("guardias.md")
    empty = client.files.create(file=("vacio.md", io.BytesIO(b"")), purpose="assistants")
    client.vector_stores.files.create(vector_store_id=roma, file_id=empty.id)  # fails indexing

    response = client.responses.create(
        model="gpt-5.4-mini",
        reasoning=NO_REASONING,
        instructions=INSTRUCTIONS,
        input="¿Qué pizzas hay?",
        tools=[{"type": "file_search", "vector_store_ids": [roma]}],
    )

    assert response.output_text.endswith("| Knowledge: horario.md, menu.md")
    assert "guardias.md" not in response.output_text
    assert [item.type for item in response.output] == ["file_search_call", "message"]
    assert farmacia


def test_file_search_over_an_unknown_store_is_a_404(sandbox):
    with pytest.raises(openai.NotFoundError):
        sandbox.openai().responses.create(
            model="gpt-5.4-mini",
            input="hola",
            tools=[{"type": "file_search", "vector_store_ids": ["vs_missing"]}],
        )


def test_max_output_tokens_cuts_the_reply_and_marks_it_incomplete(sandbox):
    response = sandbox.openai().responses.create(
        model="gpt-4.1-mini", instructions=INSTRUCTIONS, input="x" * 400, max_output_tokens=16
    )

    assert response.status == "incomplete"
    assert response.incomplete_details.reason == "max_output_tokens"
    assert len(response.output_text) == 64
    assert response.usage.output_tokens == 16


def test_response_json_validates_against_the_sdk_model(sandbox):
    body = {"model": "gpt-5.4-mini", "input": "hola", "temperature": 0.4, "top_p": 0.9}
    raw = sandbox.http.post(
        "/v1/responses",
        json={**body, "reasoning": NO_REASONING, "metadata": {"a": "b"}},
        headers={"Authorization": f"Bearer {sandbox.openai_key}"},
    ).json()

    response = Response.model_validate(raw)
    assert response.output_text == 'You said: "hola"'
    assert (response.temperature, response.top_p, response.metadata) == (0.4, 0.9, {"a": "b"})
    assert response.reasoning.effort == "none"
    assert sandbox.openai().responses.retrieve(response.id).output_text == 'You said: "hola"'


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"input": "hola"}, "model"),
        ({"model": "gpt-4.1-mini"}, "input"),
        ({"model": "gpt-4.1-mini", "input": "x", "max_output_tokens": 5}, "max_output_tokens"),
        ({"model": "gpt-4.1-mini", "input": "x", "temperature": 3}, "temperature"),
        ({"model": "gpt-4.1-mini", "input": "x", "top_p": 1.5}, "top_p"),
        ({"model": "gpt-4.1-mini", "input": [{"role": "robot", "content": "x"}]}, "input[0].role"),
    ],
)
@pytest.mark.invalid_vendor_requests
def test_invalid_request_is_a_400_naming_the_parameter(sandbox, params, param):
    with pytest.raises(openai.BadRequestError) as raised:
        sandbox.openai().responses.create(**params)
    assert raised.value.body["param"] == param


def test_overlapping_responses_on_one_conversation_are_locked(sandbox):
    client = sandbox.openai(max_retries=0)
    conversation = client.conversations.create()
    sandbox.faults(latency_ms=300, paths=["/v1/responses"])

    def ask(text: str):
        try:
            return client.responses.create(
                model="gpt-4.1-mini", input=text, conversation=conversation.id
            )
        except openai.BadRequestError as error:
            return error

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(ask, ["uno", "dos"]))

    errors = [o for o in outcomes if isinstance(o, openai.BadRequestError)]
    assert len(errors) == 1
    assert errors[0].code == "conversation_locked"
    assert errors[0].body["param"] == "conversation"
    assert len(list(client.conversations.items.list(conversation.id))) == 2  # one turn only


def test_responses_on_different_conversations_overlap(sandbox):
    client = sandbox.openai(max_retries=0)
    conversations = [client.conversations.create().id for _ in range(2)]
    sandbox.faults(latency_ms=200, paths=["/v1/responses"])

    with ThreadPoolExecutor(2) as pool:
        replies = list(
            pool.map(lambda c: client.responses.create(model="gpt-5.4-mini", input="x",
                                                       conversation=c), conversations)
        )  # fmt: skip

    assert all(reply.status == "completed" for reply in replies)


def test_a_reasoning_model_spends_reasoning_tokens_per_effort_within_the_output(sandbox):
    client = sandbox.openai()

    def ask(effort: str):
        return client.responses.create(
            model="gpt-5-mini", input="hola", reasoning={"effort": effort}
        )

    low, high = ask("low"), ask("high")

    assert (low.reasoning.effort, high.reasoning.effort) == ("low", "high")
    assert low.usage.output_tokens_details.reasoning_tokens == 64
    assert high.usage.output_tokens_details.reasoning_tokens == 1024
    assert high.usage.output_tokens == 1024 + low.usage.output_tokens - 64
    assert low.output_text == high.output_text == 'You said: "hola"'
    assert [item.type for item in high.output] == ["reasoning", "message"]


def test_without_an_effort_a_reasoning_model_runs_at_its_default(sandbox):
    client = sandbox.openai()

    documented = client.responses.create(model="gpt-5.1", input="hola")  # none, per OpenAI
    undocumented = client.responses.create(model="gpt-5.4-mini", input="hola")
    plain = client.responses.create(model="gpt-4.1-mini", input="hola")

    assert documented.reasoning.effort == "none"
    assert documented.usage.output_tokens_details.reasoning_tokens == 0
    assert undocumented.reasoning.effort == "medium"  # OpenAI states no default: the schema's
    assert undocumented.usage.output_tokens_details.reasoning_tokens == 256
    assert plain.reasoning.effort is None and [i.type for i in plain.output] == ["message"]


def test_reasoning_that_uses_up_max_output_tokens_leaves_no_text(sandbox):
    response = sandbox.openai().responses.create(
        model="gpt-5-mini", input="hola", reasoning={"effort": "medium"}, max_output_tokens=200
    )

    assert response.status == "incomplete"
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.output_text == ""
    assert [item.type for item in response.output] == ["reasoning"]
    assert response.usage.output_tokens == 200
    assert response.usage.output_tokens_details.reasoning_tokens == 200


def test_reasoning_leaves_what_remains_of_max_output_tokens_to_the_reply(sandbox):
    response = sandbox.openai().responses.create(
        model="gpt-5-mini", input="x" * 100, reasoning={"effort": "low"}, max_output_tokens=70
    )

    assert response.status == "incomplete"
    assert response.output_text == 'You said: "' + "x" * 13  # 70 - 64 = 6 tokens of 4 characters
    assert response.usage.output_tokens == 70


def test_reasoning_items_are_appended_to_the_conversation(sandbox):
    client = sandbox.openai()
    conversation = client.conversations.create()

    client.responses.create(model="gpt-5-nano", input="hola", conversation=conversation.id)

    items = list(client.conversations.items.list(conversation.id, order="asc"))
    assert [(item.type, getattr(item, "role", None)) for item in items] == [
        ("message", "user"),
        ("reasoning", None),
        ("message", "assistant"),
    ]


def test_file_search_does_not_see_a_file_still_being_indexed(start_sandbox):
    client = start_sandbox(file_processing_seconds=60).openai()
    menu = client.files.create(file=("menu.md", io.BytesIO(b"x")), purpose="assistants")
    store = client.vector_stores.create(name="kb", file_ids=[menu.id])

    response = client.responses.create(
        model="gpt-5.4-mini",
        reasoning=NO_REASONING,
        instructions=INSTRUCTIONS,
        input="¿Qué pizzas hay?",
        tools=[{"type": "file_search", "vector_store_ids": [store.id]}],
    )

    assert response.output_text.endswith("| Knowledge: (no files)")


def test_a_deleted_response_is_gone_and_deleting_it_again_is_a_404(sandbox):
    client = sandbox.openai(max_retries=0)
    response = client.responses.create(model="gpt-5.4-mini", input="hola")

    client.responses.delete(response.id)

    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(response.id)
