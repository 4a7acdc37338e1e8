"""`horizon backup` and `horizon restore`: thin commands over horizon.store.backup/restore."""

from __future__ import annotations

from pathlib import Path

import click

from horizon.cli.output import progress
from horizon.settings import Settings
from horizon.store.backup_format import BackupError


def open_store(must_exist: bool = True):
    """The store HORIZON_DATABASE_URL names; a one-line error when it cannot be opened."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from horizon.store import Store

    url = Settings().database_url
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    database = parsed.database or ""
    on_disk = parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if must_exist and on_disk and not Path(database).exists():
        raise click.ClickException(f"no database at {shown} (HORIZON_DATABASE_URL)")
    try:
        return Store.open(url)
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise click.ClickException(f"cannot open the database {shown}: {reason}") from None


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {table}" for table, count in counts.items())


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup(file: Path) -> None:
    """Write the store (HORIZON_DATABASE_URL) to FILE as compressed JSON Lines.

    Safe while the webhook serves: everything is read in one consistent snapshot.
    """
    from horizon.store.backup import write_backup

    store = open_store()
    try:
        with progress(None, "Backing up") as bar:
            header = write_backup(store, file, bar)
    except OSError as error:
        raise click.ClickException(f"{file}: {error.strerror or error}") from None
    finally:
        store.close()
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
    store = open_store(must_exist=False)
    try:
        with progress(header.total, "Restoring") as bar:
            report = restore_backup(store, file, bar, verified=header)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    finally:
        store.close()
    click.echo(f"Restored {_counts(dict(report.inserted)) or 'no new rows'} from {file}")
    if report.unchanged:
        click.echo(f"Already there, unchanged: {_counts(dict(report.unchanged))}")
