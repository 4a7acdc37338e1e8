"""The conversation log read from what a running webhook stored for known sandbox traffic,
on SQLite and on PostgreSQL."""

from __future__ import annotations

import time

import pytest

from horizon.queries.logs import (
    Follower,
    LogQuery,
    newest_id,
    recent,
    recent_statement,
    window,
)
from horizon.store import InboundMessage
from horizon.store.schema import messages
from tests.queries.running import answered, start_webhook
from tests.webhook.conftest import write_clients

ANA, LUIS = "+34600000001", "+34600000002"
ROMA, SOL = "+34910000101", "+34910000102"
MODEL_LATENCY = 0.3  # the sandbox holds every model answer this long


@pytest.fixture
def traffic(sandbox, tmp_path, database_url):
    """Three conversations answered by the webhook, one after the other, plus an old unrouted
    message two hours back; yields the webhook's store."""
    running = start_webhook(sandbox, write_clients(tmp_path / "clients"), database_url)
    sandbox.faults(latency_ms=MODEL_LATENCY * 1000, paths=["/v1/responses"])
    store = running.webhook.store.store
    old = InboundMessage(
        sid="SM" + "0" * 32,
        user_number=ANA,
        client_number="+34910009999",  # nobody's number: stored unrouted
        channel="whatsapp",
        body="viejo",
        client_id=None,
        received_at=time.time() - 7200,
    )
    store.queue.record_inbound(old)
    for count, (user, to, text) in enumerate(
        [
            (ANA, ROMA, "¿Tenéis MESA para dos?"),
            (LUIS, SOL, "HOLA, ¿tenéis Ñandú?"),
            (ANA, SOL, "adiós"),
        ],
        start=2,
    ):
        sandbox.inbound(user, to, text)
        answered(running, count)
    delivered = lambda: all(  # noqa: E731
        m["status"] == "delivered" for m in store.find_messages(direction="outbound")
    )
    deadline = time.monotonic() + 10
    while not delivered() and time.monotonic() < deadline:
        time.sleep(0.05)
    yield store
    running.stop()


def lines(entries) -> list[tuple]:
    return [(e.client_id, e.user, e.direction, e.status, e.text) for e in entries]


ROMA_REPLY = 'Eres el asistente de Pizzería Roma. | You said: "¿Tenéis MESA para dos?"'
SOL_REPLY = 'Eres el asistente de Farmacia Sol. | You said: "HOLA, ¿tenéis Ñandú?"'
SOL_BYE = 'Eres el asistente de Farmacia Sol. | You said: "adiós"'
EVERYTHING = [
    (None, "+*******0001", "inbound", "unrouted", "viejo"),
    ("pizzeria-roma", "+*******0001", "inbound", "answered", "¿Tenéis MESA para dos?"),
    ("pizzeria-roma", "+*******0001", "outbound", "delivered", ROMA_REPLY),
    ("farmacia-sol", "+*******0002", "inbound", "answered", "HOLA, ¿tenéis Ñandú?"),
    ("farmacia-sol", "+*******0002", "outbound", "delivered", SOL_REPLY),
    ("farmacia-sol", "+*******0001", "inbound", "answered", "adiós"),
    ("farmacia-sol", "+*******0001", "outbound", "delivered", SOL_BYE),
]


def test_the_log_shows_both_directions_in_time_order_with_users_masked(traffic):
    assert lines(recent(traffic, LogQuery(), limit=100)) == EVERYTHING
    assert lines(window(traffic, LogQuery())) == EVERYTHING
    assert lines(recent(traffic, LogQuery(), limit=2)) == EVERYTHING[-2:]


def test_latency_is_stored_to_sent_for_a_message_and_for_the_part_answering_it(traffic):
    rows = {row["id"]: row for row in traffic.find_messages()}
    entries = recent(traffic, LogQuery(client_id="pizzeria-roma"), limit=100)
    asked, reply = entries
    stored_asked = rows[asked.id]
    assert asked.latency == stored_asked["answered_at"] - stored_asked["created_at"]
    assert reply.latency == rows[reply.id]["created_at"] - stored_asked["created_at"]
    assert reply.latency == pytest.approx(asked.latency)  # one part: sent as it was answered
    assert MODEL_LATENCY <= asked.latency < MODEL_LATENCY + 5
    assert recent(traffic, LogQuery(client_id=None), limit=100)[0].latency is None  # unrouted


def test_filters_by_client_user_and_time(traffic):
    hour_ago = time.time() - 3600
    assert lines(recent(traffic, LogQuery(client_id="farmacia-sol"), 100)) == EVERYTHING[3:]
    assert lines(recent(traffic, LogQuery(user_number=ANA), 100)) == [
        EVERYTHING[i] for i in (0, 1, 2, 5, 6)
    ]
    both = LogQuery(client_id="farmacia-sol", user_number=ANA)
    assert lines(recent(traffic, both, 100)) == EVERYTHING[5:]
    assert lines(window(traffic, LogQuery(since=hour_ago))) == EVERYTHING[1:]


@pytest.mark.parametrize(
    ("grep", "expected"),
    [("mesa", [1, 2]), ("ñandú", [3, 4]), ("ADIÓS", [5, 6]), ("%", []), ("_", [])],
)
def test_grep_is_a_case_insensitive_substring_including_accents(traffic, grep, expected):
    found = lines(window(traffic, LogQuery(grep=grep)))
    assert found == [EVERYTHING[i] for i in expected]


def test_a_window_larger_than_a_page_comes_whole_in_order(tmp_path, database_url):
    from horizon.store import Store

    store = Store.open(database_url)
    start = time.time() - 600
    batch = [
        InboundMessage(f"SM{n:032x}", ANA, ROMA, "whatsapp", f"m{n}", None, (), start + n // 100)
        for n in range(1234)  # runs of 100 sharing a time: pages must not split them wrongly
    ]
    store.queue.record_inbound_many(batch)
    texts = [entry.text for entry in window(store, LogQuery(since=start))]
    assert texts == [f"m{n}" for n in range(1234)]
    store.close()


def test_following_shows_each_new_message_once_as_it_is_stored(sandbox, tmp_path, database_url):
    running = start_webhook(sandbox, write_clients(tmp_path / "clients"), database_url)
    store = running.webhook.store.store
    sandbox.inbound(ANA, SOL, "antes")
    answered(running, 1)
    follower = Follower(store, LogQuery(client_id="pizzeria-roma"), newest_id(store))
    assert follower.poll() == []

    sandbox.inbound(ANA, SOL, "de otro cliente")
    sandbox.inbound(LUIS, ROMA, "nuevo")
    seen = []
    deadline = time.monotonic() + 15
    while len(seen) < 2 and time.monotonic() < deadline:
        seen += follower.poll()
        time.sleep(0.05)
    running.stop()
    assert [(e.direction, e.text[-7:]) for e in seen] == [
        ("inbound", "nuevo"),
        ("outbound", '"nuevo"'),
    ]
    assert follower.poll() == []


def test_following_shows_a_row_committed_after_a_newer_one(postgres_url):
    """PostgreSQL draws ids at insert and shows rows at commit: a follower past a newer id
    must still show the older one once it commits."""
    from horizon.store import Store

    store = Store.open(postgres_url)
    follower = Follower(store, LogQuery(), newest_id(store))
    row = {
        "direction": "inbound",
        "client_id": "pizzeria-roma",
        "user_number": ANA,
        "client_number": ROMA,
        "channel": "whatsapp",
        "status": "queued",
        "created_at": time.time(),
        "updated_at": time.time(),
    }
    slow = store.engine.connect()
    slow_transaction = slow.begin()
    slow.execute(messages.insert().values(**row, sid="SM1", body="lento"))
    with store.engine.begin() as connection:
        connection.execute(messages.insert().values(**row, sid="SM2", body="rápido"))
    assert [e.text for e in follower.poll()] == ["rápido"]
    slow_transaction.commit()
    slow.close()
    assert [e.text for e in follower.poll()] == ["lento"]
    assert follower.poll() == []
    store.close()


def test_time_and_user_reads_use_an_index(tmp_path, database_url):
    from horizon.store import Store

    store = Store.open(database_url)
    queries = {
        "ix_messages_time": LogQuery(since=0.0),
        "ix_messages_user_time": LogQuery(user_number=ANA),
        "ix_messages_client_time": LogQuery(client_id="pizzeria-roma"),
    }
    for index, query in queries.items():
        statement = recent_statement(query, store.dialect, 100)
        sql = str(statement.compile(store.engine, compile_kwargs={"literal_binds": True}))
        with store.engine.connect() as connection:
            if store.dialect == "sqlite":
                plan = " ".join(
                    r[-1] for r in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
                )
            else:  # with few rows PostgreSQL prefers scanning: forbid it to see the index serve
                connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
                plan = " ".join(r[0] for r in connection.exec_driver_sql(f"EXPLAIN {sql}"))
        assert index in plan, (index, plan)
    store.close()
