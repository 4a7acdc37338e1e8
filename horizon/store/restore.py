"""`horizon restore`: a backup into the database, checked whole before anything is written.

1. `verify_backup` reads the whole file: gzip intact, header valid, versions supported,
   every row well-formed, in table order, counted and hashed as the header says.
2. `restore_backup` verifies, then writes every row in one transaction. Ids are kept, so
   turn and message references stay right. A row whose key is already there with the same
   values is left alone (restoring twice changes nothing); one whose key is there with
   other values is a conflict: the transaction is rolled back and the restore refused. On
   PostgreSQL the id sequences then continue after the restored ids.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Table, select, text, tuple_

from horizon.store.backup_format import (
    BY_NAME,
    TABLES,
    BackupError,
    Header,
    NoProgress,
    ProgressSink,
    batches,
    check_row,
    complete_row,
    parse_header,
)
from horizon.store.migrations import MIGRATIONS
from horizon.store.store import Store

NEWEST_SCHEMA = MIGRATIONS[-1].version
ORDER = {table.name: index for index, table in enumerate(TABLES)}


@dataclass
class RestoreReport:
    """Rows written and rows already there, per table."""

    inserted: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)


class _Reader:
    """The rows of a backup file, each checked; `digest` and `counts` grow as they are read."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.digest = hashlib.sha256()
        self.counts: Counter = Counter()

    def rows(self, sink: ProgressSink) -> Iterator[tuple[str, dict]]:
        """Yields (table name, row); the header is read first, as `self.header`."""
        try:
            with gzip.open(self.path, "rb") as lines:
                self.header = parse_header(self.path, lines.readline(), NEWEST_SCHEMA)
                sink.set_total(self.header.total)
                last = 0
                for number, line in enumerate(lines, start=2):
                    name, row = self._parse(line, f"{self.path}: line {number}", last)
                    last = ORDER[name]
                    yield name, row
                    sink.advance()
        except FileNotFoundError:
            raise BackupError(f"{self.path}: no such file") from None
        except (EOFError, gzip.BadGzipFile, zlib.error) as error:
            raise BackupError(
                f"{self.path}: not a complete gzip file ({error}): truncated or damaged"
            ) from None
        except OSError as error:
            raise BackupError(f"{self.path}: {error.strerror or error}") from None

    def _parse(self, line: bytes, where: str, last: int) -> tuple[str, dict]:
        self.digest.update(line)
        try:
            document = json.loads(line)
        except ValueError:
            raise BackupError(f"{where}: not a JSON object") from None
        if not isinstance(document, dict) or set(document) != {"table", "row"}:
            raise BackupError(f'{where}: expected {{"table": …, "row": {{…}}}}')
        name = document["table"]
        if name not in BY_NAME:
            raise BackupError(f"{where}: table: {str(name)[:40]!r} is not a backed-up table")
        if ORDER[name] < last:
            raise BackupError(f"{where}: table: {name} rows after {TABLES[last].name} rows")
        self.counts[name] += 1
        return name, check_row(BY_NAME[name], document["row"], where)

    def check_totals(self) -> None:
        """Counts and checksum as the header says, once every row has been read."""
        header = self.header
        for name, expected in header.counts.items():
            if self.counts[name] != expected:
                raise BackupError(
                    f"{self.path}: counts.{name}: the header says {expected} rows, "
                    f"the file holds {self.counts[name]}"
                )
        if self.digest.hexdigest() != header.sha256:
            raise BackupError(
                f"{self.path}: sha256: the rows do not match the header's checksum: "
                "the file was altered"
            )


def verify_backup(path: Path, sink: ProgressSink | None = None) -> Header:
    """Read all of `path` and return its header; BackupError on anything wrong."""
    reader = _Reader(path)
    for _ in reader.rows(sink or NoProgress()):
        pass
    reader.check_totals()
    return reader.header


def restore_backup(
    store: Store, path: Path, sink: ProgressSink | None = None, verified: Header | None = None
) -> RestoreReport:
    """Write the backup at `path` into `store` in one transaction.

    `verified` is what `verify_backup(path)` returned, when the caller has just checked the
    file (to show its own progress); without it the file is verified here first. Either
    way the rows are checked again as they are written, and the checksum before commit.
    """
    if verified is None:
        verify_backup(path)
    reader = _Reader(path)
    report = RestoreReport()
    with store.engine.begin() as connection:
        _lock(connection)
        for table, rows in batches(reader.rows(sink or NoProgress())):
            _write(connection, table, rows, report)
        # The file was checked before; read again, it must still be the same file.
        reader.check_totals()
        if connection.dialect.name == "postgresql":
            _continue_sequences(connection)
    return report


def _lock(connection: Connection) -> None:
    """Keep writers out until the restore commits, so no id is taken meanwhile."""
    if connection.dialect.name == "postgresql":
        names = ", ".join(table.name for table in TABLES)
        connection.exec_driver_sql(f"LOCK TABLE {names} IN EXCLUSIVE MODE")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _key(table: Table, row: dict) -> tuple:
    return tuple(row[column.name] for column in table.primary_key.columns)


def _write(connection: Connection, table: Table, rows: list[dict], report: RestoreReport) -> None:
    key_columns = list(table.primary_key.columns)
    keys = [_key(table, row) for row in rows]
    if len(key_columns) == 1:
        where = key_columns[0].in_([key[0] for key in keys])
    else:
        where = tuple_(*key_columns).in_(keys)
    existing = {
        _key(table, dict(found)): dict(found)
        for found in connection.execute(select(table).where(where)).mappings()
    }
    missing = []
    for row in rows:
        found = existing.get(_key(table, row))
        if found is None:
            missing.append(complete_row(table, row))
            continue
        for name, value in row.items():
            if found[name] != value:
                raise BackupError(
                    f"{table.name} {_show(_key(table, row))}: the database already holds "
                    f"this row with another {name} ({found[name]!r}, the backup has "
                    f"{value!r}); nothing was restored: restore into an empty database"
                )
        report.unchanged[table.name] += 1
    _check_unique(connection, table, missing)
    if missing:
        connection.execute(table.insert(), missing)
        report.inserted[table.name] += len(missing)


def _check_unique(connection: Connection, table: Table, rows: list[dict]) -> None:
    """A new row must not take a unique value (a message's sid…) another row holds."""
    for column in table.columns:
        if not column.unique or not rows:
            continue
        values = [row[column.name] for row in rows if row.get(column.name) is not None]
        taken = connection.execute(
            select(column).where(column.in_(values)).limit(1)
        ).scalar_one_or_none()
        if taken is not None:
            raise BackupError(
                f"{table.name}.{column.name} {taken!r}: the database already holds it in "
                "another row; nothing was restored: restore into an empty database"
            )


def _show(key: tuple) -> str:
    return "/".join(str(part) for part in key)


def _continue_sequences(connection: Connection) -> None:
    """PostgreSQL's sequences do not see explicit ids: move them past the restored ones."""
    for table in TABLES:
        columns = [c for c in table.primary_key.columns if c.autoincrement is True]
        for column in columns:
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                    f"COALESCE((SELECT max({column.name}) FROM {table.name}), 0) + 1, false)"
                )
            )
