"""The store: migrations, de-duplication, the work queue, turns, statuses, per-pair state.

Most tests run twice, on SQLite and on PostgreSQL (see `database_url` in tests/conftest.py).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import inspect

from horizon.store import InboundMessage, Media, Store, Usage
from horizon.store.engine import make_engine
from horizon.store.migrations import MIGRATIONS, current_version, migrate
from horizon.store.queue import DEFAULT_LEASE
from horizon.store.schema import metadata

CLIENT, USER, NUMBER = "pizzeria-roma", "+34600000001", "+34910000101"


@pytest.fixture
def store(database_url) -> Store:
    opened = Store.open(database_url)
    yield opened
    opened.close()


@pytest.fixture
def sqlite_store(tmp_path) -> Store:
    opened = Store.open(f"sqlite:///{tmp_path}/horizon.db")
    yield opened
    opened.close()


def inbound(sid: str, body: str = "hola", client: str | None = CLIENT, **extra) -> InboundMessage:
    fields = {"user_number": USER, "client_number": NUMBER, "channel": "whatsapp"} | extra
    return InboundMessage(sid=sid, body=body, client_id=client, **fields)


def test_opening_migrates_a_new_database_to_the_newest_schema(store):
    assert current_version(store.engine) == MIGRATIONS[-1].version
    assert set(metadata.tables) <= set(inspect(store.engine).get_table_names())
    assert migrate(store.engine) == []  # a second run applies nothing


def test_sqlite_runs_in_wal_mode(sqlite_store):
    with sqlite_store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_a_message_sid_is_stored_once(store):
    assert store.queue.record_inbound(inbound("SM1")) is True
    assert store.queue.record_inbound(inbound("SM1", body="again")) is False
    assert [m["body"] for m in store.find_messages(direction="inbound")] == ["hola"]
    assert len(store.queue.pending_work(CLIENT, USER)) == 1


def test_an_unrouted_message_is_stored_but_not_queued(store):
    store.queue.record_inbound(inbound("SM1", client=None))
    [message] = store.find_messages(sid="SM1")
    assert message["status"] == "unrouted" and message["client_id"] is None
    assert store.queue.claimable_pairs() == []


def test_media_is_kept_with_the_message(store):
    store.queue.record_inbound(
        inbound("SM1", body="", media=(Media("https://x/1.jpg", "image/jpeg"),))
    )
    [item] = store.queue.pending_work(CLIENT, USER)
    assert item.media == (Media("https://x/1.jpg", "image/jpeg"),)


def test_a_finished_turn_takes_its_messages_off_the_queue(store):
    for sid in ("SM1", "SM2"):
        store.queue.record_inbound(inbound(sid))
    items = store.queue.pending_work(CLIENT, USER)
    turn_id = store.queue.start_turn(CLIENT, USER, [item.id for item in items])
    store.replies.save_reply(turn_id, "answer", ["one", "two"], Usage("gpt-5.4-mini", 10, 5))
    turn = store.replies.turn(turn_id)
    store.replies.record_part_sent(turn, 1, "SMout1", (NUMBER, USER, "whatsapp"), "queued")
    assert store.replies.turn(turn_id).parts_sent == 1
    store.replies.finish_turn(turn_id, "answered")
    assert store.queue.claimable_pairs() == []
    assert {m["status"] for m in store.find_messages(direction="inbound")} == {"answered"}


def test_an_unfinished_turn_is_found_again_with_its_saved_reply(store):
    store.queue.record_inbound(inbound("SM1"))
    [item] = store.queue.pending_work(CLIENT, USER)
    turn_id = store.queue.start_turn(CLIENT, USER, [item.id])
    store.replies.save_reply(turn_id, "answer", ["one", "two"])
    store.replies.record_part_sent(
        store.replies.turn(turn_id), 1, "SMout1", (NUMBER, USER, "whatsapp"), "queued"
    )
    # As a restarted process sees it once the dead one's lease has run out.
    reopened = Store(store.engine, clock=lambda: time.time() + DEFAULT_LEASE + 1)
    assert reopened.queue.claimable_pairs("restarted") == [(CLIENT, USER)]
    [again] = reopened.queue.pending_work(CLIENT, USER)
    assert again.turn_id == turn_id
    assert reopened.replies.turn(turn_id).parts == ("one", "two")
    assert reopened.replies.turn(turn_id).parts_sent == 1


def test_delivery_status_only_moves_forward(store):
    store.queue.record_inbound(inbound("SM1"))
    [item] = store.queue.pending_work(CLIENT, USER)
    turn_id = store.queue.start_turn(CLIENT, USER, [item.id])
    store.replies.save_reply(turn_id, "answer", ["hi"])
    store.replies.record_part_sent(
        store.replies.turn(turn_id), 1, "SMout", (NUMBER, USER, "whatsapp"), "queued"
    )
    assert store.replies.update_status("SMout", "delivered") is True
    store.replies.update_status("SMout", "sent")  # a late callback
    assert store.find_messages(sid="SMout")[0]["status"] == "delivered"
    assert store.replies.update_status("SMunknown", "sent") is False


def test_conversations_are_kept_per_client_and_user(store):
    store.users.save_conversation(CLIENT, USER, "conv_a")
    store.users.save_conversation("farmacia-sol", USER, "conv_b")
    assert store.users.conversation(CLIENT, USER)[0] == "conv_a"
    assert store.users.conversation("farmacia-sol", USER)[0] == "conv_b"
    store.users.save_conversation(CLIENT, USER, "conv_c")
    assert store.users.conversation(CLIENT, USER)[0] == "conv_c"


def test_opt_out_is_recorded_and_reversed(store):
    assert store.users.is_opted_out(CLIENT, USER) is False
    store.users.set_opt_out(CLIENT, USER, True, "BAJA")
    assert store.users.is_opted_out(CLIENT, USER) is True
    assert store.users.is_opted_out("farmacia-sol", USER) is False
    store.users.set_opt_out(CLIENT, USER, False, "ALTA")
    assert store.users.is_opted_out(CLIENT, USER) is False


def test_usage_and_counts_feed_the_limits(store):
    since = time.time() - 60
    for sid in ("SM1", "SM2", "SM3"):
        store.queue.record_inbound(inbound(sid))
    items = store.queue.pending_work(CLIENT, USER)
    turn_id = store.queue.start_turn(CLIENT, USER, [item.id for item in items])
    store.replies.save_reply(turn_id, "answer", ["hi"], Usage("gpt-5.4-mini", 100, 20))
    assert store.users.inbound_count_since(CLIENT, USER, since) == 3
    assert store.users.usage_since(CLIENT, since) == [Usage("gpt-5.4-mini", 100, 20)]
    assert store.users.usage_since("farmacia-sol", since) == []


def test_usage_is_counted_per_month_for_the_budget(database_url):
    march, april = 1_772_323_200.0, 1_775_001_600.0  # 2026-03-01 and 2026-04-01, UTC
    now = [march + 86400]
    store = Store.open(database_url, clock=lambda: now[0])
    try:
        for sid, usage in (("SM1", Usage("gpt-5.4-mini", 100, 20)), ("SM2", Usage(None, 7, 3))):
            store.queue.record_inbound(inbound(sid))
            [item] = store.queue.pending_work(CLIENT, USER)
            turn_id = store.queue.start_turn(CLIENT, USER, [item.id])
            store.replies.save_reply(turn_id, "answer", ["hi"], usage)
            store.replies.finish_turn(turn_id, "answered")
        now[0] = april + 3600
        store.queue.record_inbound(inbound("SM3"))
        [item] = store.queue.pending_work(CLIENT, USER)
        turn_id = store.queue.start_turn(CLIENT, USER, [item.id])
        store.replies.save_reply(turn_id, "answer", ["hi"], Usage("gpt-5.4-mini", 50, 5))

        assert sorted(store.users.monthly_usage(CLIENT, march + 7 * 86400), key=str) == sorted(
            [Usage("gpt-5.4-mini", 100, 20), Usage(None, 7, 3)], key=str
        )
        assert store.users.monthly_usage(CLIENT, april) == [Usage("gpt-5.4-mini", 50, 5)]
        assert store.users.monthly_usage("farmacia-sol", april) == []
    finally:
        store.close()


def test_a_version_5_database_gets_the_months_usage_counted_from_its_turns(store):
    for n, tokens in enumerate((100, 200)):
        store.queue.record_inbound(inbound(f"SM{n}"))
        [item] = store.queue.pending_work(CLIENT, USER)
        turn_id = store.queue.start_turn(CLIENT, USER, [item.id])
        store.replies.save_reply(turn_id, "answer", ["hi"], Usage("gpt-5.4-mini", tokens, 10))
        store.replies.finish_turn(turn_id, "answered")
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE monthly_usage")
        connection.exec_driver_sql("DELETE FROM schema_migrations WHERE version > 5")

    assert [m.version for m in migrate(store.engine)] == [m.version for m in MIGRATIONS[5:]]

    assert store.users.monthly_usage(CLIENT, time.time()) == [Usage("gpt-5.4-mini", 300, 20)]


def test_a_version_1_database_gets_the_queue_indexes(store):
    with store.engine.begin() as connection:
        for name in ("ix_work_pair_state", "ix_work_turn", "ix_turns_pair_kind"):
            connection.exec_driver_sql(f"DROP INDEX {name}")
        connection.exec_driver_sql("DELETE FROM schema_migrations WHERE version > 1")

    assert [m.version for m in migrate(store.engine)] == [m.version for m in MIGRATIONS[1:]]

    indexes = {i["name"] for t in ("work", "turns") for i in inspect(store.engine).get_indexes(t)}
    assert {"ix_work_pair_state", "ix_work_turn", "ix_turns_pair_kind"} <= indexes


def test_reading_a_pairs_queue_does_not_scan_the_whole_queue(store):
    if store.dialect == "postgresql":
        return _postgresql_reads_a_pairs_queue_by_index(store)
    query = (
        "EXPLAIN QUERY PLAN SELECT id FROM work WHERE client_id = 'a' AND user_number = 'b' "
        "AND state IN ('pending', 'claimed')"
    )
    with store.engine.connect() as connection:
        plan = " ".join(row[-1] for row in connection.exec_driver_sql(query))
        by_turn = " ".join(
            row[-1]
            for row in connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN UPDATE work SET state = 'done' WHERE turn_id = 1"
            )
        )
    assert "SCAN" not in plan and "SCAN" not in by_turn


def _postgresql_reads_a_pairs_queue_by_index(store):
    # With a few rows PostgreSQL prefers a sequential scan; forbid it to see that an
    # index can serve each query.
    queries = (
        "SELECT id FROM work WHERE client_id = 'a' AND user_number = 'b' "
        "AND state IN ('pending', 'claimed')",
        "UPDATE work SET state = 'done' WHERE turn_id = 1",
    )
    with store.engine.connect() as connection:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plans = [
            " ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {query}"))
            for query in queries
        ]
    assert all("Seq Scan" not in plan for plan in plans), plans


def test_a_batch_of_messages_is_stored_in_one_go_and_repeats_are_told_apart(store):
    store.queue.record_inbound(inbound("SM0"))

    stored = store.queue.record_inbound_many(
        [inbound("SM1"), inbound("SM0"), inbound("SM2", client=None), inbound("SM1")]
    )

    assert stored == [True, False, True, False]
    assert [item.sid for item in store.queue.pending_work(CLIENT, USER)] == ["SM0", "SM1"]
    assert [m["sid"] for m in store.find_messages(direction="inbound")] == ["SM0", "SM1", "SM2"]


def test_finishing_a_turn_counts_as_the_pairs_latest_activity(database_url):
    now = [1_000_000.0]
    store = Store.open(database_url, clock=lambda: now[0])
    try:
        store.users.save_conversation(CLIENT, USER, "conv_a")
        store.users.save_conversation("farmacia-sol", USER, "conv_b")
        now[0] += 3600
        store.queue.record_inbound(inbound("SM1"))
        [item] = store.queue.pending_work(CLIENT, USER)
        turn_id = store.queue.start_turn(CLIENT, USER, [item.id])
        store.replies.save_reply(turn_id, "answer", ["hi"])
        store.replies.record_part_sent(
            store.replies.turn(turn_id), 1, "SMout", (NUMBER, USER, "whatsapp"), "queued", None,
            ("answered", None),
        )  # fmt: skip
        assert store.users.conversation(CLIENT, USER) == ("conv_a", 1_003_600.0)
        assert store.users.conversation("farmacia-sol", USER) == ("conv_b", 1_000_000.0)
    finally:
        store.close()


def test_failed_attempts_are_counted_on_the_turns_messages(store):
    for sid in ("SM1", "SM2"):
        store.queue.record_inbound(inbound(sid))
    items = store.queue.pending_work(CLIENT, USER)
    turn_id = store.queue.start_turn(CLIENT, USER, [item.id for item in items])
    assert [store.queue.record_failed_attempt(turn_id) for _ in range(3)] == [1, 2, 3]


def test_a_version_2_database_gets_the_attempts_column(store):
    store.queue.record_inbound(inbound("SM1"))  # a message queued before the upgrade
    with store.engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE work DROP COLUMN attempts")
        connection.exec_driver_sql("DELETE FROM schema_migrations WHERE version > 2")

    assert [m.version for m in migrate(store.engine)][0] == 3

    [item] = store.queue.pending_work(CLIENT, USER)
    assert store.queue.record_failed_attempt(store.queue.start_turn(CLIENT, USER, [item.id])) == 1


def test_of_two_workers_claiming_the_same_messages_only_one_wins(store):
    for sid in ("SM1", "SM2"):
        store.queue.record_inbound(inbound(sid))
    ids = [item.id for item in store.queue.pending_work(CLIENT, USER)]

    first = store.queue.start_turn(CLIENT, USER, ids, owner="a")
    second = store.queue.start_turn(CLIENT, USER, ids, owner="b")
    partly = store.queue.start_turn(CLIENT, USER, ids[1:], owner="b")

    assert first is not None and (second, partly) == (None, None)
    assert {item.owner for item in store.queue.pending_work(CLIENT, USER)} == {"a"}
    assert store.queue.claimable_pairs("b") == []
    assert store.queue.claimable_pairs("a") == [(CLIENT, USER)]


def test_a_claim_is_taken_over_only_once_its_lease_expires_or_is_released(database_url):
    now = [1_000_000.0]
    store = Store.open(database_url, clock=lambda: now[0])
    try:
        store.queue.record_inbound(inbound("SM1"))
        [item] = store.queue.pending_work(CLIENT, USER)
        turn_id = store.queue.start_turn(CLIENT, USER, [item.id], owner="a", lease=10)
        assert store.queue.resume_turn(turn_id, [item.id], owner="b") is False
        now[0] += 8
        assert store.queue.renew_leases("a", lease=10) == 1
        now[0] += 8  # 16 s after the claim, but renewed at 8 s
        assert store.queue.resume_turn(turn_id, [item.id], owner="b") is False
        now[0] += 3
        assert store.queue.claimable_pairs("b") == [(CLIENT, USER)]
        assert store.queue.resume_turn(turn_id, [item.id], owner="b") is True
        assert store.queue.resume_turn(turn_id, [item.id], owner="a") is False
        assert store.queue.release_claims("b") == 1
        assert store.queue.resume_turn(turn_id, [item.id], owner="a") is True
        [again] = store.queue.pending_work(CLIENT, USER)
        assert (again.turn_id, again.owner) == (turn_id, "a")
    finally:
        store.close()


# -- several workers on one database at once ---------------------------------------------


def _at_once(count: int, call) -> list:
    """`call(n)` for n in range(count), on `count` threads released together."""
    barrier = threading.Barrier(count)

    def run(n: int):
        barrier.wait()
        return call(n)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_replicas_opening_a_new_database_at_once_migrate_it_once(database_url):
    stores = _at_once(4, lambda _: Store.open(database_url))
    try:
        with stores[0].engine.connect() as connection:
            versions = connection.exec_driver_sql("SELECT version FROM schema_migrations")
            assert sorted(versions.scalars()) == [m.version for m in MIGRATIONS]
    finally:
        for store in stores:
            store.close()


def test_of_many_workers_racing_for_overlapping_messages_each_message_goes_to_one(store):
    for n in range(12):
        store.queue.record_inbound(inbound(f"SM{n}"))
    ids = [item.id for item in store.queue.pending_work(CLIENT, USER)]
    workers = [Store(make_engine(store.engine.url), store.clock) for _ in range(6)]
    try:
        for _round in range(5):
            # Each worker asks for a different overlapping slice, in its own order.
            def claim(n: int) -> tuple[int | None, list[int]]:
                wanted = ids[n : n + 7] if n % 2 else list(reversed(ids[n : n + 7]))
                return workers[n].queue.start_turn(CLIENT, USER, wanted, owner=f"w{n}"), wanted

            results = _at_once(len(workers), claim)
            winners = [(turn, wanted) for turn, wanted in results if turn is not None]
            assert winners, results
            claimed = [item for item in store.queue.pending_work(CLIENT, USER) if item.turn_id]
            assert sorted(item.id for item in claimed) == sorted(
                work_id for _, wanted in winners for work_id in wanted
            )
            with store.engine.begin() as connection:
                connection.exec_driver_sql(
                    "UPDATE work SET state = 'pending', turn_id = NULL, owner = NULL"
                )
    finally:
        for worker in workers:
            worker.close()


def test_replicas_storing_the_same_message_at_once_store_it_once(store):
    workers = [Store(make_engine(store.engine.url), store.clock) for _ in range(4)]
    try:
        for n in range(5):
            stored = _at_once(
                len(workers), lambda w, n=n: workers[w].queue.record_inbound(inbound(f"SM{n}"))
            )
            assert sorted(stored) == [False, False, False, True]
        assert len(store.queue.pending_work(CLIENT, USER)) == 5
    finally:
        for worker in workers:
            worker.close()


def test_conversations_and_opt_outs_saved_at_once_keep_one_row(store):
    workers = [Store(make_engine(store.engine.url), store.clock) for _ in range(4)]
    try:
        for n in range(5):
            user = f"+3460000010{n}"
            _at_once(
                len(workers),
                lambda w, u=user: workers[w].users.save_conversation(CLIENT, u, f"c{w}"),
            )
            _at_once(
                len(workers),
                lambda w, u=user: workers[w].users.set_opt_out(CLIENT, u, True, "BAJA"),
            )
            assert store.users.conversation(CLIENT, user)[0] in {"c0", "c1", "c2", "c3"}
            assert store.users.is_opted_out(CLIENT, user) is True
    finally:
        for worker in workers:
            worker.close()
