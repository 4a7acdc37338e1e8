"""One apply at a time per account, held for the whole plan-and-apply.

With `HORIZON_DATABASE_URL` naming PostgreSQL the lock is a session-level advisory lock
there, keyed by a digest of the account (never a credential), so applies from different
machines sharing that database exclude each other. Otherwise it is an advisory lock file,
named by the same digest, in the system's temp directory: every checkout on one machine
shares it. Either way the lock goes with its holder: the operating system drops a dead
process's file lock, and PostgreSQL a closed session's advisory lock (a machine that
vanishes without closing its connection holds it until the server notices the
connection is dead, per its TCP keepalive settings).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

# application_name is how a refused apply learns who holds the lock; PostgreSQL keeps 63 bytes.
_HOLDER_PREFIX = "horizon reconcile: "
_HOLDER_SQL = """
SELECT a.application_name, a.backend_start
FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid::bigint = :high AND l.objid::bigint = :low
"""


class LockError(Exception):
    """The apply lock could not be taken; the message says why, in one line."""


class LockHeld(LockError):
    """Another apply against the same account is running; the message says which."""


class LockUnavailable(LockError):
    """The database that holds the lock could not be reached."""


def lock_path(account: str, directory: str | Path | None = None) -> Path:
    digest = hashlib.sha256(account.encode()).hexdigest()[:16]
    return Path(directory or tempfile.gettempdir()) / f"horizon-reconcile-{digest}.lock"


def lock_key(account: str) -> int:
    """The advisory lock's key: 63 bits of a digest, so it is a positive bigint."""
    digest = hashlib.sha256(f"horizon-reconcile|{account}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


@contextmanager
def apply_lock(
    account: str, directory: str | Path | None = None, *, database_url: str | None = None
) -> Iterator[str]:
    """Hold the account's apply lock, or raise LockHeld at once if another process has it.

    The lock is taken in PostgreSQL when `database_url` names it, else in a lock file in
    `directory` (the system's temp directory by default). Yields where the lock is.
    """
    if database_url and _is_postgresql(database_url):
        with _database_lock(account, database_url) as where:
            yield where
    else:
        with _file_lock(account, directory) as path:
            yield str(path)


def _is_postgresql(url: str) -> bool:
    from sqlalchemy.engine import make_url

    return make_url(url).get_backend_name() == "postgresql"


@contextmanager
def _file_lock(account: str, directory: str | Path | None) -> Iterator[Path]:
    path = lock_path(account, directory)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(_held_message(_file_holder(path), str(path))) from None
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        os.ftruncate(descriptor, 0)
        os.write(descriptor, json.dumps(holder).encode())
        try:
            yield path
        finally:
            os.ftruncate(descriptor, 0)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _file_holder(path: Path) -> str:
    try:
        holder = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return ""
    if not holder:
        return ""
    return _who(f"pid {holder.get('pid')} on {holder.get('host')}", holder.get("since", 0))


@contextmanager
def _database_lock(account: str, url: str) -> Iterator[str]:
    """A session-level advisory lock on a connection of its own, held until the block ends.

    The connection autocommits, so it never sits idle in a transaction while apply runs.
    """
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    key = lock_key(account)
    connection, where = _lock_connection(url)
    try:
        with connection:
            taken = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
            if not taken.scalar():
                raise LockHeld(_held_message(_database_holder(connection, key), where))
            try:
                yield where
            finally:
                # A lost connection has released the lock already: closing it is enough.
                with suppress(SQLAlchemyError):
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
    finally:
        connection.engine.dispose()


def _lock_connection(url: str) -> tuple[Any, str]:
    """An autocommit connection to `url`, named after this process, and where the lock is."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.pool import NullPool

    from horizon.store.engine import database_url

    parsed = database_url(url)
    where = f"PostgreSQL advisory lock in {parsed.render_as_string(hide_password=True)}"
    name = f"{_HOLDER_PREFIX}pid {os.getpid()} on {socket.gethostname()}"
    try:
        engine = create_engine(
            parsed,
            poolclass=NullPool,
            connect_args={"application_name": name[:63], "connect_timeout": 10},
        )
        return engine.connect().execution_options(isolation_level="AUTOCOMMIT"), where
    except ModuleNotFoundError as error:
        reason = f"{error.name} is not installed (pip install 'horizon[postgres]')"
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    raise LockUnavailable(f"could not take the apply lock ({where}): {reason}")


def _database_holder(connection: Any, key: int) -> str:
    from sqlalchemy import text

    row = connection.execute(
        text(_HOLDER_SQL), {"high": key >> 32, "low": key & 0xFFFFFFFF}
    ).first()
    if row is None or not (row.application_name or "").startswith(_HOLDER_PREFIX):
        return ""  # released meanwhile, or held by a role whose sessions this one cannot see
    since: datetime | None = row.backend_start
    return _who(row.application_name.removeprefix(_HOLDER_PREFIX), since and since.timestamp())


def _who(holder: str, since: float | None) -> str:
    if not since:
        return f" ({holder})"
    return f" ({holder}, since {time.strftime('%H:%M:%S', time.localtime(since))})"


def _held_message(who: str, where: str) -> str:
    return (
        f"another reconcile is applying changes to this account{who}; "
        f"wait for it to finish, then run again (lock: {where})"
    )
