"""A delivery status that reaches the webhook before the worker recorded its part.

Twilio can call the status callback within milliseconds of taking a message, and on
another replica: the status is kept for the part (`early_statuses`) instead of dropped.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from horizon.store import InboundMessage, Store
from horizon.store.replies import EARLY_STATUS_TTL
from horizon.store.schema import early_statuses

CLIENT, USER, NUMBER = "pizzeria-roma", "+34600000001", "+34910000101"


@pytest.fixture
def clock() -> list[float]:
    return [1_800_000_000.0]


@pytest.fixture
def store(database_url, clock) -> Store:
    opened = Store.open(database_url, clock=lambda: clock[0])
    yield opened
    opened.close()


def turn_of(store: Store):
    message = InboundMessage("SMin", USER, NUMBER, "whatsapp", "hola", CLIENT)
    store.queue.record_inbound(message)
    [item] = store.queue.pending_work(CLIENT, USER)
    turn_id = store.queue.start_turn(CLIENT, USER, [item.id])
    store.replies.save_reply(turn_id, "answer", ["uno", "dos"])
    return store.replies.turn(turn_id)


def sent(store: Store, turn, part: int, sid: str) -> None:
    store.replies.record_part_sent(turn, part, sid, (NUMBER, USER, "whatsapp"), "queued")


def status_of(store: Store, sid: str) -> tuple[str, str | None]:
    [message] = store.find_messages(sid=sid)
    return message["status"], message["error"]


def kept(store: Store) -> dict[str, str]:
    with store.engine.connect() as connection:
        rows = connection.execute(select(early_statuses.c.sid, early_statuses.c.status))
        return dict(rows.all())


def test_a_status_before_its_part_is_given_to_the_part_when_it_is_recorded(store):
    turn = turn_of(store)
    assert store.replies.update_status("SMout1", "sent") is False
    assert store.replies.update_status("SMout1", "undelivered", "63016") is False
    store.replies.update_status("SMout1", "queued")  # late, and behind: ignored
    assert kept(store) == {"SMout1": "undelivered"}
    sent(store, turn, 1, "SMout1")
    assert status_of(store, "SMout1") == ("undelivered", "63016")
    assert kept(store) == {}


def test_the_sweep_gives_a_kept_status_to_a_part_recorded_meanwhile(store):
    turn = turn_of(store)
    sent(store, turn, 1, "SMout1")
    # As if the status had been kept while the part's transaction was still open.
    with store.engine.begin() as connection:
        connection.execute(
            early_statuses.insert().values(sid="SMout1", status="delivered", received_at=1.0e9)
        )
    assert store.replies.apply_early_statuses() == 1
    assert status_of(store, "SMout1") == ("delivered", None)
    assert kept(store) == {}


def test_statuses_of_sids_never_recorded_are_forgotten_after_an_hour(store, clock):
    store.replies.update_status("SMsomeone-else", "delivered")
    clock[0] += EARLY_STATUS_TTL - 1
    store.replies.update_status("SMrecent", "sent")
    assert store.replies.apply_early_statuses() == 0
    assert set(kept(store)) == {"SMsomeone-else", "SMrecent"}
    clock[0] += 2
    store.replies.apply_early_statuses()
    assert set(kept(store)) == {"SMrecent"}
