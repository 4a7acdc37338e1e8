"""Migration 7: the covering indexes the per-client figures read instead of the tables."""

from __future__ import annotations

from sqlalchemy import inspect

from horizon.store.migrations import FIGURES_INDEXES, MIGRATIONS, migrate
from horizon.store.store import Store


def indexes(store: Store) -> set[str]:
    found = inspect(store.engine)
    return {index["name"] for table in ("messages", "turns") for index in found.get_indexes(table)}


def test_a_version_6_database_gets_the_figures_indexes(database_url):
    store = Store.open(database_url)
    try:
        with store.engine.begin() as connection:
            for name in FIGURES_INDEXES:
                connection.exec_driver_sql(f"DROP INDEX {name}")
            connection.exec_driver_sql("DELETE FROM schema_migrations WHERE version > 6")
        assert not set(FIGURES_INDEXES) & indexes(store)

        assert [m.version for m in migrate(store.engine)] == [m.version for m in MIGRATIONS[6:]]

        assert set(FIGURES_INDEXES) <= indexes(store)
    finally:
        store.close()
