"""OpenAI Responses: the deterministic reply, usage, conversations, file_search, locking."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest
from openai.types.responses import Response

INSTRUCTIONS = "Eres el asistente de Pizzería Roma.\nResponde en español, breve y amable."


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
        model="gpt-5.4-mini", instructions=INSTRUCTIONS, input="hola", conversation=conversation.id
    )
    second = client.responses.create(
        model="gpt-5.4-mini",
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


def test_file_search_names_only_the_files_of_the_given_stores(sandbox):
    client = sandbox.openai()

    def store_with(*names: str) -> str:
        files = [
            client.files.create(file=(name, io.BytesIO(b"x")), purpose="assistants").id
            for name in names
        ]
        return client.vector_stores.create(name="kb", file_ids=files).id

    roma, farmacia = store_with("menu.md", "horario.md"), store_with("guardias.md")

    response = client.responses.create(
        model="gpt-5.4-mini",
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
        model="gpt-5.4-mini", instructions=INSTRUCTIONS, input="x" * 400, max_output_tokens=16
    )

    assert response.status == "incomplete"
    assert response.incomplete_details.reason == "max_output_tokens"
    assert len(response.output_text) == 64


def test_response_json_validates_against_the_sdk_model(sandbox):
    raw = sandbox.http.post(
        "/v1/responses",
        json={"model": "gpt-5.4-mini", "input": "hola", "temperature": 0.4, "metadata": {"a": "b"}},
        headers={"Authorization": f"Bearer {sandbox.openai_key}"},
    ).json()

    response = Response.model_validate(raw)
    assert response.output_text == 'You said: "hola"'
    assert (response.temperature, response.metadata) == (0.4, {"a": "b"})
    assert sandbox.openai().responses.retrieve(response.id).output_text == 'You said: "hola"'


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"input": "hola"}, "model"),
        ({"model": "m"}, "input"),
        ({"model": "m", "input": "x", "max_output_tokens": 5}, "max_output_tokens"),
        ({"model": "m", "input": "x", "temperature": 3}, "temperature"),
        ({"model": "m", "input": [{"role": "robot", "content": "x"}]}, "input[0].role"),
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
            return client.responses.create(model="m", input=text, conversation=conversation.id)
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
            pool.map(lambda c: client.responses.create(model="m", input="x", conversation=c),
                     conversations)
        )  # fmt: skip

    assert all(reply.status == "completed" for reply in replies)
