"""OpenAI Conversations and their items through the unmodified openai SDK."""

from __future__ import annotations

import openai
import pytest
from openai.types.conversations import Conversation


def test_conversation_keeps_metadata_and_initial_items(sandbox):
    client = sandbox.openai()

    conversation = client.conversations.create(
        metadata={"client": "pizzeria-roma", "user": "+34600000001"},
        items=[{"type": "message", "role": "user", "content": "hola"}],
    )

    assert conversation.id.startswith("conv_")
    assert client.conversations.retrieve(conversation.id).metadata == {
        "client": "pizzeria-roma",
        "user": "+34600000001",
    }
    [item] = client.conversations.items.list(conversation.id)
    assert (item.type, item.role, item.content[0].type, item.content[0].text) == (
        "message", "user", "input_text", "hola",
    )  # fmt: skip


def test_items_list_is_newest_first_and_pages_past_one_page(sandbox):
    client = sandbox.openai()
    conversation = client.conversations.create()
    client.conversations.items.create(
        conversation.id,
        items=[{"type": "message", "role": "user", "content": f"m{i}"} for i in range(5)],
    )

    first = client.conversations.items.list(conversation.id, limit=2)
    everything = list(client.conversations.items.list(conversation.id, limit=2, order="asc"))

    assert [item.content[0].text for item in first.data] == ["m4", "m3"]
    assert first.has_more is True and first.last_id == first.data[-1].id
    assert [item.content[0].text for item in everything] == [f"m{i}" for i in range(5)]


def test_update_and_delete(sandbox):
    client = sandbox.openai()
    conversation = client.conversations.create(metadata={"a": "1"})

    assert client.conversations.update(conversation.id, metadata={"a": "2"}).metadata == {"a": "2"}
    assert client.conversations.delete(conversation.id).deleted is True
    with pytest.raises(openai.NotFoundError):
        client.conversations.retrieve(conversation.id)


def test_item_can_be_retrieved_and_deleted(sandbox):
    client = sandbox.openai()
    conversation = client.conversations.create(
        items=[{"type": "message", "role": "user", "content": "hola"}]
    )
    [item] = client.conversations.items.list(conversation.id)

    retrieved = client.conversations.items.retrieve(item.id, conversation_id=conversation.id)
    assert retrieved.id == item.id
    client.conversations.items.delete(item.id, conversation_id=conversation.id)
    assert list(client.conversations.items.list(conversation.id)) == []


def test_conversation_json_validates_against_the_sdk_model(sandbox):
    conversation = sandbox.openai().conversations.create()
    raw = sandbox.http.get(
        f"/v1/conversations/{conversation.id}",
        headers={"Authorization": f"Bearer {sandbox.openai_key}"},
    ).json()
    assert Conversation.model_validate(raw).id == conversation.id


@pytest.mark.invalid_vendor_requests
def test_item_with_an_unknown_role_is_a_400(sandbox):
    with pytest.raises(openai.BadRequestError) as raised:
        sandbox.openai().conversations.create(
            items=[{"type": "message", "role": "robot", "content": "x"}]
        )
    assert raised.value.body["param"] == "items[0].role"
