"""Backup and restore: real webhook traffic, backed up and restored into empty databases.

The restored database must hold the same rows and give the same per-client figures, on
SQLite and PostgreSQL, in both directions; restoring twice changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import case, func, select

from horizon.store import InboundMessage, Store
from horizon.store.backup import write_backup
from horizon.store.restore import restore_backup, verify_backup
from horizon.store.schema import messages, monthly_usage, turns
from tests.traffic import ANA, EVA, LUIS, ROMA, SOL, converse, serving, table_rows
from tests.webhook.conftest import write_clients

TRAFFIC = [
    (ANA, ROMA, "¿Tenéis mesa para dos?"),
    (LUIS, ROMA, "¿Hasta qué hora abrís?"),
    (ANA, SOL, "¿Tenéis ibuprofeno?"),
    (EVA, SOL, "Hola"),
    (EVA, ROMA, "STOP"),
]


def figures(store: Store) -> dict[str, tuple]:
    """Per client: inbound, outbound, users, turns, tokens in/out, summed reply latency."""
    inbound = messages.c.direction == "inbound"
    latency = case((inbound, messages.c.answered_at - messages.c.created_at), else_=0)
    by_messages = (
        select(
            messages.c.client_id,
            func.sum(case((inbound, 1), else_=0)),
            func.sum(case((inbound, 0), else_=1)),
            func.count(func.distinct(messages.c.user_number)),
            func.round(func.sum(latency) * 1000),
        )
        .group_by(messages.c.client_id)
        .order_by(messages.c.client_id)
    )
    by_turns = select(
        turns.c.client_id,
        func.count(),
        func.sum(turns.c.input_tokens),
        func.sum(turns.c.output_tokens),
    ).group_by(turns.c.client_id)
    usage = select(monthly_usage.c.client_id, func.sum(monthly_usage.c.input_tokens)).group_by(
        monthly_usage.c.client_id
    )
    with store.engine.connect() as connection:
        result = {row[0]: tuple(int(v) for v in row[1:]) for row in connection.execute(by_messages)}
        for client, count, tokens_in, tokens_out in connection.execute(by_turns):
            result[client] += (int(count), int(tokens_in), int(tokens_out))
        for client, tokens_in in connection.execute(usage):
            result[client] += (int(tokens_in),)
    return result


@pytest.fixture(scope="module")
def traffic_backup(tmp_path_factory, _shared_sandbox) -> tuple[Path, dict, dict]:
    """A backup of a SQLite store the webhook wrote answering TRAFFIC, its rows and figures."""
    sandbox = _shared_sandbox
    sandbox.reset()
    folder = tmp_path_factory.mktemp("traffic")
    clients_dir = write_clients(folder / "clients")
    with serving(sandbox, clients_dir, f"sqlite:///{folder}/source.db") as webhook:
        converse(sandbox, webhook, TRAFFIC)
        store = webhook.webhook.store.store
        path = folder / "horizon-backup.jsonl.gz"
        write_backup(store, path)
        return path, table_rows(store), figures(store)


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
