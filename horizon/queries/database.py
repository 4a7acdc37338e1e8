"""Opening the webhook's database for reading, with a one-line error when it is not there.

An operations command must read the database the webhook writes: a SQLite URL naming a
file that does not exist is refused rather than created, since an empty new database
would only show no messages (or wait forever for a reply that goes elsewhere).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from horizon.store.engine import database_url
from horizon.store.store import Store


class StoreUnavailable(Exception):
    """The database cannot be read; the message names HORIZON_DATABASE_URL and why."""


def open_existing_store(url: str) -> Store:
    """The store at `url` (migrated, as the webhook would); StoreUnavailable if it is not there."""
    try:
        parsed = database_url(url)
    except ArgumentError:
        raise StoreUnavailable("HORIZON_DATABASE_URL is not a database URL") from None
    setting = f"HORIZON_DATABASE_URL ({make_url(url).render_as_string(hide_password=True)})"
    path = parsed.database
    on_disk = parsed.get_backend_name() == "sqlite" and path and path != ":memory:"
    if on_disk and not Path(path).is_file():
        raise StoreUnavailable(
            f"{setting}: there is no database file {path}; "
            "point HORIZON_DATABASE_URL at the database the webhook writes"
        )
    try:
        return Store.open(url)
    except ImportError as error:
        raise StoreUnavailable(f"{setting}: its driver is not installed ({error})") from None
    except SQLAlchemyError as error:
        cause = " ".join(
            str(getattr(error, "orig", None) or error).split("\n(Background")[0].split()
        )
        raise StoreUnavailable(f"{setting}: the database cannot be opened: {cause}") from None
