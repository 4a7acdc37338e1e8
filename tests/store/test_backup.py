"""Backup and restore: real webhook traffic, backed up and restored into empty databases.

The restored database must hold the same rows and give the same per-client figures, on
SQLite and PostgreSQL, in both directions; restoring twice changes nothing.
"""

from __future__ import annotations

import gzip
import itertools
import json
import threading
from collections import Counter

from horizon.store import InboundMessage, Store
from horizon.store.backup import write_backup
from horizon.store.migrations import MIGRATIONS
from horizon.store.restore import restore_backup, verify_backup
from horizon.store.schema import messages
from tests.traffic import LUIS, ROMA, SOL, figures, serving, table_rows
from tests.webhook.conftest import write_clients
from tests.webhook.test_end_to_end import eventually


def test_traffic_covers_every_table(traffic_backup):
    _, rows, figures_before = traffic_backup
    assert {name: bool(found) for name, found in rows.items()} == dict.fromkeys(rows, True)
    assert set(figures_before) == {"pizzeria-roma", "farmacia-sol", "stats"}
    assert figures_before["pizzeria-roma"][:3] == (3, 3, 3)  # STOP is answered too
    stats = {row["client"]: row for row in figures_before["stats"]}
    assert (stats["pizzeria-roma"]["inbound"], stats["pizzeria-roma"]["users"]) == (3, 3)
    assert stats["farmacia-sol"]["latency_p50_s"] > 0 and stats["farmacia-sol"]["cost_usd"] > 0


def test_a_backup_restores_into_an_empty_database_with_the_same_rows_and_figures(
    traffic_backup, database_url
):
    path, rows, figures_before = traffic_backup
    target = Store.open(database_url)
    report = restore_backup(target, path)
    assert dict(report.inserted) == {name: len(found) for name, found in rows.items()}
    assert table_rows(target) == rows
    assert figures(target) == figures_before
    # New rows take ids after the restored ones (PostgreSQL's sequences were moved on).
    message = InboundMessage("SM" + "f" * 32, LUIS, SOL, "whatsapp", "otra", "farmacia-sol")
    assert target.queue.record_inbound(message)
    [new] = target.find_messages(sid=message.sid)
    assert new["id"] == max(row["id"] for row in rows["messages"]) + 1
    target.close()


def test_restoring_twice_changes_nothing(traffic_backup, database_url):
    path, rows, _ = traffic_backup
    target = Store.open(database_url)
    restore_backup(target, path)
    again = restore_backup(target, path)
    assert not again.inserted
    assert dict(again.unchanged) == {name: len(found) for name, found in rows.items()}
    assert table_rows(target) == rows
    target.close()


def test_postgresql_and_sqlite_move_data_both_ways(traffic_backup, postgres_url, tmp_path):
    path, rows, figures_before = traffic_backup
    postgres = Store.open(postgres_url)
    restore_backup(postgres, path)
    header = write_backup(postgres, tmp_path / "from-postgres.jsonl.gz")
    assert header.source_dialect == "postgresql"
    sqlite = Store.open(f"sqlite:///{tmp_path}/back.db")
    restore_backup(sqlite, tmp_path / "from-postgres.jsonl.gz")
    assert table_rows(sqlite) == rows
    assert figures(sqlite) == figures(postgres) == figures_before
    postgres.close()
    sqlite.close()


def test_the_header_counts_every_row_and_names_the_schema(traffic_backup):
    path, rows, _ = traffic_backup
    header = verify_backup(path)
    assert header.counts == {name: len(found) for name, found in rows.items()}
    assert (header.format_version, header.schema_version, header.source_dialect) == (
        1,
        MIGRATIONS[-1].version,
        "sqlite",
    )


def _consistent(path) -> list[str]:
    """What in the backup at `path` refers to a row the backup lacks, or contradicts it."""
    tables: dict[str, list[dict]] = {}
    with gzip.open(path, "rb") as lines:
        next(lines)
        for line in lines:
            item = json.loads(line)
            tables.setdefault(item["table"], []).append(item["row"])
    message_ids = {row["id"] for row in tables.get("messages", [])}
    turn_ids = {row["id"] for row in tables.get("turns", [])}
    sent = Counter(row["turn_id"] for row in tables.get("messages", []) if row["turn_id"])
    problems = [
        f"work {row['id']} without its message or turn"
        for row in tables.get("work", [])
        if row["message_id"] not in message_ids or (row["turn_id"] or 0) not in turn_ids | {0}
    ]
    problems += [f"message to turn {turn} without the turn" for turn in set(sent) - turn_ids]
    problems += [
        f"turn {row['id']} sent {row['parts_sent']} parts, {sent[row['id']]} stored"
        for row in tables.get("turns", [])
        if row["parts_sent"] != sent[row["id"]]
    ]
    return problems


def test_a_backup_taken_while_the_webhook_answers_is_consistent(sandbox, tmp_path, database_url):
    clients_dir = write_clients(tmp_path / "clients")
    with serving(sandbox, clients_dir, database_url) as webhook:
        store = webhook.webhook.store.store
        # Old traffic, so that reading the store takes long enough for replies to land meanwhile.
        with store.engine.begin() as connection:
            connection.execute(messages.insert(), [_old_message(n) for n in range(20000)])
        stop = threading.Event()

        def traffic(offset: int) -> None:
            for n in itertools.count():
                if stop.is_set():
                    return
                sandbox.inbound(f"+3460010{offset}{n % 20:03d}", ROMA, f"pregunta {n}")

        senders = [threading.Thread(target=traffic, args=(offset,)) for offset in (1, 2)]
        for sender in senders:
            sender.start()
        try:
            eventually(lambda: len(store.find_messages(direction="outbound")) >= 10)
            problems = []
            for attempt in range(4):
                path = tmp_path / f"live-{attempt}.jsonl.gz"
                write_backup(store, path)
                problems += _consistent(path)
        finally:
            stop.set()
            for sender in senders:
                sender.join()
        turns_seen = verify_backup(path).counts["turns"]
    assert turns_seen > 0
    assert problems == []


def _old_message(n: int) -> dict:
    return {
        "sid": f"SMold{n:029d}",
        "direction": "inbound",
        "client_id": None,
        "user_number": "+34600999999",
        "client_number": "+34910009999",
        "channel": "whatsapp",
        "body": "mensaje antiguo " * 8,
        "status": "unrouted",
        "created_at": 1.7e9 + n,
        "updated_at": 1.7e9 + n,
    }
