"""`horizon backup`: the store as one file, read in a single snapshot while the webhook serves.

Every table is read in one read transaction (SQLite: a WAL read snapshot; PostgreSQL:
REPEATABLE READ, READ ONLY), so the file holds no turn without its messages even while
replies are being written. Rows stream in batches, so memory stays flat however big the
store. The header carries the counts and checksum, known only at the end: the rows are
written as one gzip member to a temporary file, then the file is the header's gzip member
followed by that one (gzip readers, `zcat` included, read consecutive members as one
stream), renamed into place when complete.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, func, select

from horizon.store.backup_format import (
    BATCH,
    FORMAT_VERSION,
    TABLES,
    Header,
    NoProgress,
    ProgressSink,
    data_line,
)
from horizon.store.migrations import current_version
from horizon.store.store import Store


@contextmanager
def snapshot(store: Store) -> Iterator[Connection]:
    """A connection whose reads all see the database as it was at its first read."""
    with store.engine.connect() as connection:
        if store.dialect == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                connection.exec_driver_sql("SET TRANSACTION READ ONLY")
                yield connection
        else:
            # pysqlite starts no transaction for reads: each SELECT would see a newer state.
            # An explicit BEGIN holds one WAL snapshot from the first read to the end.
            with connection.begin():
                connection.exec_driver_sql("BEGIN")
                yield connection


def _rows(connection: Connection, sink: ProgressSink) -> Iterator[tuple[str, bytes]]:
    for table in TABLES:
        query = select(table).order_by(*table.primary_key.columns)
        result = connection.execution_options(yield_per=BATCH).execute(query)
        for partition in result.mappings().partitions():
            for row in partition:
                yield table.name, data_line(table.name, dict(row))
            sink.advance(len(partition))


def write_backup(store: Store, path: Path, sink: ProgressSink | None = None) -> Header:
    """Write the store to `path` (replaced only once complete); returns its header."""
    sink = sink or NoProgress()
    path = Path(path)
    schema_version = current_version(store.engine)
    rows_file = path.with_name(f".{path.name}.rows-{os.getpid()}")
    whole_file = path.with_name(f".{path.name}.part-{os.getpid()}")
    try:
        with snapshot(store) as connection:
            counts = {
                table.name: int(
                    connection.execute(select(func.count()).select_from(table)).scalar()
                )
                for table in TABLES
            }
            sink.set_total(sum(counts.values()))
            digest = hashlib.sha256()
            written = dict.fromkeys(counts, 0)
            with gzip.open(rows_file, "wb") as out:
                for name, line in _rows(connection, sink):
                    digest.update(line)
                    out.write(line)
                    written[name] += 1
            created_at = store.clock()
        # The snapshot's counts and the rows read in it can only differ through a bug.
        assert written == counts, f"rows read {written} differ from counts {counts}"
        header = Header(
            FORMAT_VERSION, schema_version, created_at, store.dialect, counts, digest.hexdigest()
        )
        with open(whole_file, "wb") as out, open(rows_file, "rb") as rows:
            out.write(gzip.compress(header.line()))
            shutil.copyfileobj(rows, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(whole_file, path)
        return header
    finally:
        for leftover in (rows_file, whole_file):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
