"""`horizon backup` and `horizon restore`: thin commands over horizon.store.backup/restore."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from horizon.cli.output import progress
from horizon.settings import Settings
from horizon.store import Store
from horizon.store.backup_format import BackupError


@contextmanager
def opened_store(must_exist: bool = True, failing: str = "") -> Iterator[Store]:
    """The store HORIZON_DATABASE_URL names, closed afterwards; a database error, opening
    it or later, is one line (`failing` says what it means for the user's data)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    url = Settings().database_url
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    database = parsed.database or ""
    on_disk = parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if must_exist and on_disk and not Path(database).exists():
        raise click.ClickException(f"no database at {shown} (HORIZON_DATABASE_URL)")
    try:
        store = Store.open(url)
    except SQLAlchemyError as error:
        raise click.ClickException(f"cannot open the database {shown}: {_reason(error)}") from None
    try:
        yield store
    except SQLAlchemyError as error:
        raise click.ClickException(
            f"the database {shown} failed: {_reason(error)}{failing}"
        ) from None
    finally:
        store.close()


def _reason(error: Exception) -> str:
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {table}" for table, count in counts.items())


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup(file: Path) -> None:
    """Write the store (HORIZON_DATABASE_URL) to FILE as compressed JSON Lines.

    Safe while the webhook serves: everything is read in one consistent snapshot.
    """
    from horizon.store.backup import write_backup

    try:
        with opened_store() as store, progress(None, "Backing up") as bar:
            header = write_backup(store, file, bar)
    except OSError as error:
        raise click.ClickException(f"{file}: {error.strerror or error}") from None
    click.echo(f"Backed up {_counts(header.counts)} to {file}")
    click.echo(f"schema version {header.schema_version}, sha256 {header.sha256}")


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def restore(file: Path) -> None:
    """Restore FILE into the database HORIZON_DATABASE_URL names.

    The whole file is checked first; then every row is written in one transaction. Rows
    already there with the same values are kept; a row there with other values stops the
    restore with nothing written.
    """
    from horizon.store.restore import restore_backup, verify_backup

    try:
        with progress(None, "Checking") as bar:
            header = verify_backup(file, bar)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    try:
        with (
            opened_store(must_exist=False, failing="; nothing was restored") as store,
            progress(header.total, "Restoring") as bar,
        ):
            report = restore_backup(store, file, bar, verified=header)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {_counts(dict(report.inserted)) or 'no new rows'} from {file}")
    if report.unchanged:
        click.echo(f"Already there, unchanged: {_counts(dict(report.unchanged))}")
