"""The sandbox's world: records grouped by collection, in memory, written through to SQLite.

Every read is served from memory. Every write is one SQLite row (upsert or delete), so
persistence stays cheap however large the world grows; without a state file the same
code runs on an in-memory database. Records are JSON-able dicts, treated as immutable:
callers replace a record with `put` instead of mutating what `get` returned.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (collection, id)
)
"""


class World:
    """Ordered collections of records (insertion order), safe to share between threads."""

    def __init__(self, path: str | None = None) -> None:
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path or ":memory:", check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self._collections: dict[str, dict[str, dict]] = {}
        self._seq = 0
        self._load()

    def _load(self) -> None:
        rows = self._db.execute("SELECT collection, id, seq, data FROM records ORDER BY seq")
        for collection, record_id, seq, data in rows:
            self._collections.setdefault(collection, {})[record_id] = json.loads(data)
            self._seq = max(self._seq, seq)

    def get(self, collection: str, record_id: str) -> dict | None:
        return self._collections.get(collection, {}).get(record_id)

    def all(self, collection: str) -> list[dict]:
        """The collection's records, oldest first."""
        with self._lock:
            return list(self._collections.get(collection, {}).values())

    def count(self, collection: str) -> int:
        return len(self._collections.get(collection, {}))

    def find(self, collection: str, **fields: object) -> dict | None:
        """The first record whose fields equal the given values."""
        with self._lock:
            for record in self._collections.get(collection, {}).values():
                if all(record.get(name) == value for name, value in fields.items()):
                    return record
        return None

    def put(self, collection: str, record_id: str, record: dict) -> dict:
        """Insert or replace a record; a replaced record keeps its place in the order."""
        with self._lock:
            records = self._collections.setdefault(collection, {})
            self._seq += 1
            records[record_id] = record
            self._db.execute(
                "INSERT INTO records (collection, id, seq, data) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (collection, id) DO UPDATE SET data = excluded.data",
                (collection, record_id, self._seq, json.dumps(record)),
            )
            self._db.commit()
        return record

    def delete(self, collection: str, record_id: str) -> bool:
        with self._lock:
            removed = self._collections.get(collection, {}).pop(record_id, None)
            if removed is None:
                return False
            self._db.execute(
                "DELETE FROM records WHERE collection = ? AND id = ?", (collection, record_id)
            )
            self._db.commit()
            return True

    def drop(self, collection: str) -> None:
        """Remove a whole collection (e.g. a deleted vector store's files)."""
        with self._lock:
            self._collections.pop(collection, None)
            self._db.execute("DELETE FROM records WHERE collection = ?", (collection,))
            self._db.commit()

    def clear(self) -> None:
        with self._lock:
            self._collections.clear()
            self._db.execute("DELETE FROM records")
            self._db.commit()

    def collections(self) -> Iterable[str]:
        return list(self._collections)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def public(record: dict) -> dict:
    """A record as an API shows it: fields starting with '_' are the sandbox's own bookkeeping."""
    return {name: value for name, value in record.items() if not name.startswith("_")}
