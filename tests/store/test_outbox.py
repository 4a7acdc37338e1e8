"""The outbox in the store: a parked turn holds its pair until its next try, on any replica.

Each test runs on SQLite and on PostgreSQL (see `database_url` in tests/conftest.py).
"""

from __future__ import annotations

import pytest

from horizon.store import Store
from horizon.store.migrations import migrate

from .test_store import CLIENT, USER, inbound

NOW = 1_000_000.0


@pytest.fixture
def clock() -> list[float]:
    return [NOW]


@pytest.fixture
def store(database_url, clock) -> Store:
    opened = Store.open(database_url, clock=lambda: clock[0])
    yield opened
    opened.close()


def claimed_turn(store: Store, sid: str, owner: str = "a") -> tuple[int, int]:
    """(turn id, work id) of a new message claimed by a turn of `owner`."""
    store.queue.record_inbound(inbound(sid, received_at=store.clock()))
    item = store.queue.pending_work(CLIENT, USER)[-1]
    turn_id = store.queue.start_turn(CLIENT, USER, [item.id], owner=owner)
    return turn_id, item.id


def test_a_parked_reply_holds_its_pair_until_its_next_try_then_any_worker_resumes_it(store, clock):
    turn_id, work_id = claimed_turn(store, "SM1")
    assert store.outbox.park(turn_id, NOW + 30, "twilio HTTP 503: Service Unavailable") == 1
    store.queue.record_inbound(inbound("SM2", received_at=NOW))  # the user writes again

    first, later = store.queue.pending_work(CLIENT, USER)
    assert first.parked(NOW) and not later.parked(NOW)
    assert store.queue.claimable_pairs("b") == []  # the later message waits too
    assert store.queue.resume_turn(turn_id, [work_id], owner="b") is False
    assert store.queue.renew_leases("a") == 0 and store.queue.release_claims("a") == 0

    clock[0] = NOW + 31
    assert store.queue.claimable_pairs("b") == [(CLIENT, USER)]
    assert store.queue.resume_turn(turn_id, [work_id], owner="b") is True
    assert store.queue.resume_turn(turn_id, [work_id], owner="c") is False
    turn = store.replies.turn(turn_id)
    assert turn.send_failures == 1


def test_the_outbox_counts_unfinished_replies_that_failed_to_send(store, clock):
    parked, _ = claimed_turn(store, "SM1")
    store.outbox.park(parked, NOW + 5, "twilio HTTP 503")
    clock[0] = NOW + 10
    assert store.outbox.park(parked, NOW + 20, "twilio HTTP 503") == 2
    delivered, _ = claimed_turn(store, "SM2", owner="b")
    store.outbox.park(delivered, NOW + 5, "twilio HTTP 429")
    store.replies.finish_turn(delivered, "answered")
    claimed_turn(store, "SM3", owner="b")  # under way, never failed: not in the outbox

    assert store.outbox.waiting() == {CLIENT: (1, NOW)}
    store.replies.finish_turn(parked, "failed", "reply not sent within the deadline")
    assert store.outbox.waiting() == {}


def test_a_version_4_database_gets_the_outbox_columns(store):
    turn_id, _ = claimed_turn(store, "SM1")  # a turn under way during the upgrade
    with store.engine.begin() as connection:
        for column in ("send_failures", "send_error"):
            connection.exec_driver_sql(f"ALTER TABLE turns DROP COLUMN {column}")
        connection.exec_driver_sql("DELETE FROM schema_migrations WHERE version > 4")

    assert [m.version for m in migrate(store.engine)][0] == 5

    assert store.replies.turn(turn_id).send_failures == 0
    assert store.outbox.park(turn_id, NOW + 5, "twilio HTTP 503") == 1
