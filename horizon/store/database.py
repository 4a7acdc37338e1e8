"""The database a store runs on: its engine, dialect and clock, and the one place where
SQLite and PostgreSQL are told apart for the statements that differ."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, Table, text
from sqlalchemy.dialects import postgresql, sqlite


class Database:
    """An engine plus the clock every stored time is taken from (epoch seconds)."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine, self.clock = engine, clock
        self.dialect = engine.dialect.name

    def insert(self, table: Table) -> Any:
        """An INSERT for `table` that can take ON CONFLICT clauses, in this dialect."""
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        return dialect.insert(table)

    def upsert(self, table: Table, row: dict, changed: tuple[str, ...]) -> None:
        """Insert `row`, or update its `changed` columns where its primary key exists.

        One statement (INSERT ... ON CONFLICT DO UPDATE), so two replicas saving the
        same new row at once both succeed instead of one failing on the primary key.
        """
        statement = self.insert(table).values(row)
        statement = statement.on_conflict_do_update(
            index_elements=[column.name for column in table.primary_key],
            set_={name: statement.excluded[name] for name in changed},
        )
        with self.engine.begin() as connection:
            connection.execute(statement)

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def close(self) -> None:
        self.engine.dispose()
