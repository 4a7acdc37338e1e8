"""Restore refuses a damaged, altered or foreign backup, and a conflicting database, with
one line naming the file, line and field, and leaves the target database as it was."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import update

from horizon.store import Store
from horizon.store.backup_format import BackupError
from horizon.store.restore import restore_backup
from horizon.store.schema import messages
from tests.traffic import table_rows


def lines_of(path: Path) -> list[bytes]:
    with gzip.open(path, "rb") as file:
        return file.read().splitlines(keepends=True)


def rewrite(path: Path, lines: list[bytes], fix_checksum: bool = False) -> None:
    """Write `lines` back as one valid gzip file; `fix_checksum` also makes the header agree."""
    if fix_checksum:
        header = json.loads(lines[0])
        header["sha256"] = hashlib.sha256(b"".join(lines[1:])).hexdigest()
        lines = [(json.dumps(header) + "\n").encode(), *lines[1:]]
    path.write_bytes(gzip.compress(b"".join(lines)))


def truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])


def altered_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) - 40] ^= 0x55  # inside the rows' compressed data
    path.write_bytes(bytes(data))


def altered_row(path: Path) -> None:
    lines = lines_of(path)
    row = json.loads(lines[1])
    row["row"]["body"] = "someone else's words"
    rewrite(path, [lines[0], (json.dumps(row) + "\n").encode(), *lines[2:]])


def wrong_checksum(path: Path) -> None:
    lines = lines_of(path)
    header = json.loads(lines[0])
    header["sha256"] = "0" * 64
    rewrite(path, [(json.dumps(header) + "\n").encode(), *lines[1:]])


def row_missing(path: Path) -> None:
    lines = lines_of(path)
    rewrite(path, [*lines[:2], *lines[3:]], fix_checksum=True)


def malformed_row(path: Path) -> None:
    lines = lines_of(path)
    row = json.loads(lines[-1])
    row["row"]["input_tokens"] = "many"
    rewrite(path, [*lines[:-1], (json.dumps(row) + "\n").encode()], fix_checksum=True)


def unknown_table(path: Path) -> None:
    lines = lines_of(path)
    extra = b'{"table":"secrets","row":{}}\n'
    rewrite(path, [*lines, extra], fix_checksum=True)


def newer_schema(path: Path) -> None:
    lines = lines_of(path)
    header = json.loads(lines[0])
    header["schema_version"] = 99
    rewrite(path, [(json.dumps(header) + "\n").encode(), *lines[1:]])


def not_a_backup(path: Path) -> None:
    path.write_bytes(gzip.compress(b'{"hello": "world"}\n'))


def not_gzip(path: Path) -> None:
    path.write_text("message,body\n1,hola\n")


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated": (truncated, r"not a complete gzip file"),
    "altered byte": (altered_byte, r"not a complete gzip file|sha256|: line \d+: "),
    "altered row": (altered_row, r": sha256: the rows do not match the header's checksum"),
    "wrong checksum": (wrong_checksum, r": sha256: the rows do not match"),
    "row missing": (row_missing, r": counts\.messages: the header says \d+ rows, the file holds"),
    "malformed row": (
        malformed_row,
        r": line \d+: monthly_usage\.input_tokens: expected a number, got \"many\"",
    ),
    "unknown table": (unknown_table, r": line \d+: table: 'secrets' is not a backed-up table"),
    "newer schema": (newer_schema, r": line 1: schema_version 99 is newer than this Horizon's"),
    "not a backup": (not_a_backup, r": line 1: not a Horizon backup header"),
    "not gzip": (not_gzip, r"not a complete gzip file"),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_backup_is_refused_and_nothing_is_written(
    damage, traffic_backup, database_url, tmp_path
):
    source, rows, _ = traffic_backup
    damaged = tmp_path / "damaged.jsonl.gz"
    shutil.copy(source, damaged)
    change, reason = DAMAGE[damage]
    change(damaged)
    target = Store.open(database_url)
    with pytest.raises(BackupError, match=reason) as refused:
        restore_backup(target, damaged)
    message = str(refused.value)
    assert "\n" not in message and str(damaged) in message.split(":")[0]
    assert table_rows(target) == dict.fromkeys(rows, [])
    target.close()


def test_a_database_holding_other_rows_under_the_same_keys_is_left_as_it_was(
    traffic_backup, database_url
):
    source, rows, _ = traffic_backup
    target = Store.open(database_url)
    restore_backup(target, source)
    with target.engine.begin() as connection:
        connection.execute(update(messages).where(messages.c.id == 2).values(body="cambiado"))
        connection.execute(messages.delete().where(messages.c.id == rows["messages"][-1]["id"]))
    before = table_rows(target)
    with pytest.raises(BackupError, match=r"^messages 2: the database already holds this row "):
        restore_backup(target, source)
    assert table_rows(target) == before  # the deleted message was not put back either
    target.close()
