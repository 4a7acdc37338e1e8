"""The sandbox's world: ordered collections, written through to SQLite, surviving restarts."""

from __future__ import annotations

import io
import time

from twilio.rest.messaging.v2.channels_sender import ChannelsSenderList

from horizon.sandbox.world import World


def test_records_keep_insertion_order_and_replacements_keep_their_place(tmp_path):
    world = World(str(tmp_path / "world.db"))
    for name in ("a", "b", "c"):
        world.put("letters", name, {"name": name})
    world.put("letters", "a", {"name": "A"})

    assert [r["name"] for r in world.all("letters")] == ["A", "b", "c"]


def test_reopened_store_holds_the_same_world(tmp_path):
    path = str(tmp_path / "world.db")
    world = World(path)
    world.put("letters", "a", {"n": 1})
    world.put("letters", "b", {"n": 2})
    world.put("digits", "1", {"n": 1})
    world.delete("letters", "a")
    world.drop("digits")
    world.close()

    reopened = World(path)

    assert reopened.all("letters") == [{"n": 2}]
    assert reopened.all("digits") == []
    assert reopened.find("letters", n=2) == {"n": 2}


def test_thousands_of_writes_stay_cheap(tmp_path):
    world = World(str(tmp_path / "world.db"))
    started = time.monotonic()
    for index in range(3000):
        world.put("messages", f"SM{index}", {"sid": f"SM{index}", "body": "x" * 200})
    assert time.monotonic() - started < 3.0
    assert world.count("messages") == 3000


def test_sandbox_restarted_on_the_same_state_file_keeps_its_world(start_sandbox, tmp_path):
    state = str(tmp_path / "sandbox.db")
    first = start_sandbox(state_path=state, numbers=("+14155550100",))
    create = ChannelsSenderList.MessagingV2ChannelsSenderRequestsCreate(
        {"sender_id": "whatsapp:+34910000101", "friendly_name": "horizon:roma",
         "profile": {"name": "Roma"}}
    )  # fmt: skip
    sender = first.twilio().messaging.v2.channels_senders.create(create)
    client = first.openai()
    uploaded = client.files.create(file=("menu.md", io.BytesIO(b"menu")), purpose="assistants")
    store = client.vector_stores.create(name="roma", file_ids=[uploaded.id])
    conversation = client.conversations.create()
    client.responses.create(model="gpt-4.1-mini", input="hola", conversation=conversation.id)
    first.close()

    second = start_sandbox(state_path=state)

    assert second.twilio().messaging.v2.channels_senders(sender.sid).fetch().friendly_name == (
        "horizon:roma"
    )
    assert [n.phone_number for n in second.twilio().incoming_phone_numbers.list()] == [
        "+14155550100"
    ]
    client = second.openai()
    assert client.vector_stores.retrieve(store.id).file_counts.total == 1
    assert client.files.retrieve(uploaded.id).filename == "menu.md"
    assert len(list(client.conversations.items.list(conversation.id))) == 2
