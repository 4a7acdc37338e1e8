"""The backup file: gzip-compressed JSON Lines, a header line then one line per row.

    {"format": "horizon-backup", "format_version": 1, "schema_version": 6, "counts": {…},
     "sha256": "…", "created_at": …, "source_dialect": "sqlite", "tables": [...]}
    {"table": "messages", "row": {"id": 1, "sid": "SM…", …}}
    …

Rows come table by table in `TABLES` order (a row only refers to rows of earlier tables),
each table in primary-key order. `sha256` is over the data lines' bytes, newlines included,
as they are after decompression. What a row may hold is read from `schema.py`, so a
backup is checked against the same columns the database has.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import BigInteger, Boolean, Float, Integer, String, Table

from horizon.store import schema

FORMAT = "horizon-backup"
FORMAT_VERSION = 1

# The work queue is kept: a restore then answers what was waiting when the backup was made.
TABLES: tuple[Table, ...] = (
    schema.messages,
    schema.turns,
    schema.work,
    schema.conversations,
    schema.opt_outs,
    schema.monthly_usage,
)
BY_NAME = {table.name: table for table in TABLES}
BATCH = 1000


class BackupError(Exception):
    """A backup that cannot be read or restored; the message is one line for the user."""


class ProgressSink(Protocol):
    """Where long work reports how far it is (the CLI's progress bar, or nothing)."""

    def set_total(self, total: float | None) -> None: ...

    def advance(self, amount: float = 1) -> None: ...


class NoProgress:
    def set_total(self, total: float | None) -> None:
        pass

    def advance(self, amount: float = 1) -> None:
        pass


def data_line(table: str, row: dict) -> bytes:
    return (json.dumps({"table": table, "row": row}, separators=(",", ":")) + "\n").encode()


@dataclass(frozen=True)
class Header:
    format_version: int
    schema_version: int
    created_at: float
    source_dialect: str
    counts: dict[str, int]
    sha256: str

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def line(self) -> bytes:
        document = {
            "format": FORMAT,
            "format_version": self.format_version,
            "schema_version": self.schema_version,
            "created_at": self.created_at,
            "source_dialect": self.source_dialect,
            "tables": [table.name for table in TABLES],
            "counts": self.counts,
            "sha256": self.sha256,
        }
        return (json.dumps(document, separators=(",", ":")) + "\n").encode()


def parse_header(path: Path, raw: bytes, newest_schema: int) -> Header:
    """The header of line 1, checked: a Horizon backup whose versions this code restores."""

    def bad(message: str) -> BackupError:
        return BackupError(f"{path}: line 1: {message}")

    try:
        document = json.loads(raw)
    except ValueError:
        raise bad("not a Horizon backup header (not JSON)") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise bad(f"not a Horizon backup header (format is not {FORMAT!r})")
    version, schema_version = document.get("format_version"), document.get("schema_version")
    if version != FORMAT_VERSION:
        raise bad(f"format_version {version!r} is not supported (this Horizon reads 1)")
    if not isinstance(schema_version, int) or not 1 <= schema_version <= newest_schema:
        raise bad(
            f"schema_version {schema_version!r} is newer than this Horizon's "
            f"({newest_schema}): restore with the Horizon that made it, or a newer one"
        )
    counts, digest = document.get("counts"), document.get("sha256")
    if (
        not isinstance(counts, dict)
        or set(counts) - set(BY_NAME)
        or not all(isinstance(n, int) and n >= 0 for n in counts.values())
    ):
        raise bad("counts: expected a count for each of " + ", ".join(BY_NAME))
    if not isinstance(digest, str) or len(digest) != 64:
        raise bad("sha256: expected 64 hexadecimal digits")
    return Header(
        version,
        schema_version,
        float(document.get("created_at") or 0),
        str(document.get("source_dialect") or ""),
        {name: int(counts.get(name, 0)) for name in BY_NAME},
        digest,
    )


def _kind(column: Any) -> tuple[type, ...]:
    if isinstance(column.type, Boolean):
        return (bool,)
    if isinstance(column.type, Integer | BigInteger):
        return (int,)
    if isinstance(column.type, Float):
        return (int, float)
    return (str,)


def _required(column: Any) -> bool:
    return not column.nullable and column.default is None and column.server_default is None


def check_row(table: Table, row: object, where: str) -> dict:
    """`row` if it fits `table`'s columns; else BackupError naming `where` and the field."""
    if not isinstance(row, dict):
        raise BackupError(f"{where}: {table.name}: expected a row object")
    for name in row:
        if name not in table.c:
            raise BackupError(f"{where}: {table.name}.{name}: no such column")
    for column in table.columns:
        field = f"{where}: {table.name}.{column.name}"
        if column.name not in row:
            if _required(column) or column.primary_key:
                raise BackupError(f"{field}: missing")
            continue
        value = row[column.name]
        if value is None:
            if not column.nullable or column.primary_key:
                raise BackupError(f"{field}: must not be null")
            continue
        kinds = _kind(column)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            expected = {bool: "true or false", int: "a number", str: "text"}[kinds[-1]]
            raise BackupError(f"{field}: expected {expected}, got {json.dumps(value)[:40]}")
        length = getattr(column.type, "length", None)
        if isinstance(column.type, String) and length and len(value) > length:
            raise BackupError(f"{field}: longer than {length} characters")
    return row


def complete_row(table: Table, row: dict) -> dict:
    """`row` with every column: one an older schema did not have takes its default."""
    if len(row) == len(table.columns):
        return row
    full = {}
    for column in table.columns:
        if column.name in row:
            full[column.name] = row[column.name]
        else:
            default = column.default
            full[column.name] = default.arg if default is not None and default.is_scalar else None
    return full


def batches(rows: Iterator[tuple[str, dict]]) -> Iterator[tuple[Table, list[dict]]]:
    """Consecutive rows of one table, at most BATCH at a time."""
    current: Table | None = None
    batch: list[dict] = []
    for name, row in rows:
        table = BY_NAME[name]
        if (table is not current or len(batch) >= BATCH) and batch:
            yield current, batch  # type: ignore[misc]
            batch = []
        current = table
        batch.append(row)
    if batch and current is not None:
        yield current, batch
