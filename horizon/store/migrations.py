"""Schema migrations: a numbered list applied in order, recorded in `schema_migrations`.

`schema.py` always describes the newest schema. Migration 1 creates it on an empty
database; every later change to `schema.py` ships with a migration that brings an older
database to the same shape and is a no-op where the change is already there (a fresh
database gets it from migration 1).

Replicas starting together may migrate one database at once: each migration runs under a
lock (PostgreSQL's advisory lock, SQLite's write lock) and is skipped by whoever finds it
applied once the lock is theirs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Index,
    Table,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.schema import CreateColumn

from horizon.store import schema


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Connection], None]


def _initial_schema(connection: Connection) -> None:
    schema.metadata.create_all(connection, checkfirst=True)


def _turn_and_pair_indexes(connection: Connection) -> None:
    for table in (schema.work, schema.turns):
        for index in table.indexes:
            index.create(connection, checkfirst=True)


def _add_columns(connection: Connection, table: Table, *names: str) -> None:
    """Add `table`'s columns `names` where missing, as `schema.py` declares them."""
    present = {column["name"] for column in inspect(connection).get_columns(table.name)}
    for name in names:
        if name not in present:
            column: Column = table.c[name]
            ddl = CreateColumn(column).compile(dialect=connection.dialect)
            connection.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {ddl}")


def _work_attempts(connection: Connection) -> None:
    _add_columns(connection, schema.work, "attempts")


def _work_claims(connection: Connection) -> None:
    _add_columns(connection, schema.work, "owner", "lease_until")


def _turn_send_failures(connection: Connection) -> None:
    _add_columns(connection, schema.turns, "send_failures", "send_error")


def _monthly_usage(connection: Connection) -> None:
    """The per-month usage counters, filled from the turns already recorded."""
    if inspect(connection).has_table(schema.monthly_usage.name):
        return  # a new database: migration 1 made it, and there is nothing to count
    schema.monthly_usage.create(connection)
    turns = schema.turns
    if connection.dialect.name == "sqlite":
        month = func.strftime("%Y-%m", turns.c.started_at, "unixepoch")
    else:
        month = func.to_char(func.timezone("UTC", func.to_timestamp(turns.c.started_at)), "YYYY-MM")
    counted = (
        select(
            turns.c.client_id,
            month,
            turns.c.model,
            func.sum(turns.c.input_tokens),
            func.sum(turns.c.output_tokens),
        )
        .where(turns.c.model.is_not(None))
        .group_by(turns.c.client_id, month, turns.c.model)
    )
    columns = ["client_id", "month", "model", "input_tokens", "output_tokens"]
    connection.execute(insert(schema.monthly_usage).from_select(columns, counted))


FIGURES_INDEXES = ("ix_messages_client_time_figures", "ix_turns_client_time_figures")


def _figures_indexes(connection: Connection) -> None:
    """The covering indexes of the operations figures (`horizon stats`, `clients`)."""
    for table in (schema.messages, schema.turns):
        for index in table.indexes:
            if index.name in FIGURES_INDEXES:
                index.create(connection, checkfirst=True)


def _log_indexes(connection: Connection) -> None:
    for name in ("ix_messages_time", "ix_messages_user_time"):
        _index(schema.messages, name).create(connection, checkfirst=True)


def _replicas(connection: Connection) -> None:
    """The serving replicas' heartbeats and their configuration loads."""
    for table in (schema.replicas, schema.config_events):
        table.create(connection, checkfirst=True)
        for index in table.indexes:
            index.create(connection, checkfirst=True)


def _early_statuses(connection: Connection) -> None:
    schema.early_statuses.create(connection, checkfirst=True)
    _index(schema.early_statuses, "ix_early_statuses_received").create(connection, checkfirst=True)


def _index(table: Table, name: str) -> Index:
    return next(index for index in table.indexes if index.name == name)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _initial_schema),
    Migration(
        2,
        "indexes for a pair's open work, a turn's work and a pair's turns",
        _turn_and_pair_indexes,
    ),
    Migration(3, "failed attempts per queued message", _work_attempts),
    Migration(4, "claims with an owner and a lease", _work_claims),
    Migration(5, "the reply outbox: send failures per turn", _turn_send_failures),
    Migration(6, "token usage per client, month and model", _monthly_usage),
    Migration(7, "covering indexes for the per-client figures", _figures_indexes),
    Migration(8, "indexes for the conversation log by time and by user", _log_indexes),
    Migration(9, "replicas with heartbeats, and configuration loads", _replicas),
    Migration(10, "delivery statuses that arrive before their message", _early_statuses),
)


# Any constant both replicas agree on: the advisory lock serialising their migrations.
MIGRATION_LOCK = 0x484F52495A4F4E  # "HORIZON"


def current_version(engine: Engine) -> int:
    """The newest applied migration, 0 for an empty database."""
    with engine.connect() as connection:
        return _version(connection)


def _version(connection: Connection) -> int:
    if not inspect(connection).has_table(schema.schema_migrations.name):
        return 0
    versions = connection.execute(select(schema.schema_migrations.c.version)).scalars()
    return max(versions, default=0)


def _lock(connection: Connection) -> None:
    """Wait until no one else migrates; the lock lasts until the transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    elif connection.dialect.name == "sqlite":
        # pysqlite opens no transaction before DDL: take the write lock explicitly.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def migrate(engine: Engine) -> list[Migration]:
    """Apply every migration newer than the database, each in its own transaction."""
    applied: list[Migration] = []
    version = current_version(engine)
    for migration in MIGRATIONS:
        if migration.version <= version:
            continue
        with engine.begin() as connection:
            _lock(connection)
            version = _version(connection)
            if migration.version <= version:
                continue  # another process applied it meanwhile
            migration.apply(connection)
            schema.schema_migrations.create(connection, checkfirst=True)
            connection.execute(
                schema.schema_migrations.insert().values(
                    version=migration.version, name=migration.name, applied_at=time.time()
                )
            )
        applied.append(migration)
    return applied
