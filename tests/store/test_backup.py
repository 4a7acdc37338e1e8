"""Backup and restore: real webhook traffic, backed up and restored into empty databases.

The restored database must hold the same rows and give the same per-client figures, on
SQLite and PostgreSQL, in both directions; restoring twice changes nothing.
"""

from __future__ import annotations

from horizon.store import InboundMessage, Store
from horizon.store.backup import write_backup
from horizon.store.restore import restore_backup, verify_backup
from tests.traffic import LUIS, SOL, figures, table_rows


def test_traffic_covers_every_table(traffic_backup):
    _, rows, figures_before = traffic_backup
    assert {name: bool(found) for name, found in rows.items()} == dict.fromkeys(rows, True)
    assert set(figures_before) == {"pizzeria-roma", "farmacia-sol"}
    assert figures_before["pizzeria-roma"][:3] == (3, 3, 3)  # STOP is answered too


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
        6,
        "sqlite",
    )
