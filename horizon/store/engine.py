"""Engines for HORIZON_DATABASE_URL: SQLite in WAL mode by default, PostgreSQL for replicas."""

from __future__ import annotations

import importlib.util
import sqlite3
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url


def database_url(url: str) -> URL:
    """`url` parsed, with a plain `postgresql://` (or `postgres://`) using psycopg 3.

    SQLAlchemy's default PostgreSQL driver is psycopg2; Horizon's `postgres` extra
    installs psycopg 3. A URL naming its driver (`postgresql+psycopg2://`) is kept.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres") and (
        importlib.util.find_spec("psycopg") is not None
        or importlib.util.find_spec("psycopg2") is None
    ):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername == "postgres":
        parsed = parsed.set(drivername="postgresql")
    return parsed


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and its folder created."""
    parsed = database_url(url)
    if parsed.get_backend_name() != "sqlite":
        # Claims rely on READ COMMITTED: an UPDATE that waited for another worker's claim
        # re-checks its WHERE against the committed row, so it finds it taken and changes
        # nothing (a stricter level would raise a serialization error instead).
        # libpq waits for an unreachable server as long as TCP does (minutes); a start-up
        # or a request should fail in seconds instead. A URL's own connect_timeout wins.
        connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": 10}
        return create_engine(
            parsed,
            connect_args=connect_args,
            pool_pre_ping=True,
            pool_size=8,
            max_overflow=8,
            isolation_level="READ COMMITTED",
        )
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": 30, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the writer; NORMAL sync survives a killed process
    # (only a power cut can lose the last commits).
    _use_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _use_wal(cursor, patience: float = 30.0) -> None:
    """Put the database in WAL mode (it stays so in the file) unless it already is.

    Switching needs the database to itself, and SQLite answers "database is locked" at
    once, without its busy timeout, when another connection is switching it too (replicas
    opening a new file together): so look first, and try again for a while.
    """
    deadline = time.monotonic() + patience
    while True:
        try:
            (mode,) = cursor.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
