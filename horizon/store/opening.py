"""Opening HORIZON_DATABASE_URL for a command or the webhook: every way it can fail is one
line that names the setting and the cause, never a traceback."""

from __future__ import annotations

import re

from sqlalchemy import false, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from horizon.store.schema import messages
from horizon.store.store import Store

# How SQLite ("readonly database") and PostgreSQL ("read-only transaction") say it.
_READ_ONLY = re.compile(r"read-?only", re.IGNORECASE)


class StoreUnavailable(Exception):
    """The database cannot be used; the message names HORIZON_DATABASE_URL and why."""


def open_writable_store(url: str) -> Store:
    """The store at `url`, migrated and writable; else StoreUnavailable naming the setting.

    A read-only database would otherwise start, report ready, and answer every message
    503; so the start-up writes nothing but proves it could (an UPDATE of no rows still
    takes the write lock in SQLite and needs write access in PostgreSQL).
    """
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        raise StoreUnavailable("HORIZON_DATABASE_URL is not a database URL") from None
    setting = f"HORIZON_DATABASE_URL ({shown})"
    try:
        store = Store.open(url)
    except OSError as error:
        raise StoreUnavailable(
            f"{setting}: cannot create {error.filename}: {error.strerror}"
        ) from None
    except ImportError as error:
        raise StoreUnavailable(f"{setting}: its driver is not installed ({error})") from None
    except SQLAlchemyError as error:
        cause = _cause(error)
        problem = "is read-only" if _READ_ONLY.search(cause) else "cannot be opened"
        raise StoreUnavailable(f"{setting}: the database {problem}: {cause}") from None
    try:
        with store.engine.begin() as connection:
            connection.execute(update(messages).where(false()).values(status=messages.c.status))
    except SQLAlchemyError as error:
        store.close()
        raise StoreUnavailable(f"{setting}: the database is read-only: {_cause(error)}") from None
    return store


def _cause(error: SQLAlchemyError) -> str:
    """The driver's own message on one line, without SQLAlchemy's statement and link."""
    cause = str(getattr(error, "orig", None) or error).split("\n(Background")[0]
    cause = " ".join(cause.split())
    if cause == "unable to open database file":  # SQLite's message for every such case
        cause += " (does its folder exist, and may this user write there?)"
    return cause
