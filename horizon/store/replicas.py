"""The replicas serving from this database: each one's heartbeat, its stop, and the
configuration loads it made. Written by `horizon serve`; read by the panel's System page
(horizon/queries/system.py). One short statement per call: never on a request's path."""

from __future__ import annotations

from dataclasses import dataclass

from horizon.store.database import Database
from horizon.store.schema import config_events, replicas

ERROR_LENGTH = 2000  # a rejected config's message, as stored
HEARTBEAT_INTERVAL = 5.0  # seconds between a replica's heartbeats
# A replica whose heartbeat is older than this is not serving (killed, or its host gone):
# three missed beats, so one slow write of a busy database does not declare it dead.
ALIVE_WITHIN = 3 * HEARTBEAT_INTERVAL


@dataclass(frozen=True)
class ReplicaInfo:
    """Who a replica is: its id (the worker's owner id), host, process and version."""

    id: str
    host: str
    pid: int
    version: str


class Replicas:
    """Heartbeats and configuration loads of the serving replicas."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def register(self, replica: ReplicaInfo, config_commit: str | None) -> None:
        """Record `replica` as started now (again, if its id was seen before)."""
        now = self.db.clock()
        row = {
            "id": replica.id,
            "host": replica.host,
            "pid": replica.pid,
            "version": replica.version,
            "started_at": now,
            "heartbeat_at": now,
            "config_commit": config_commit,
            "stopped_at": None,
        }
        self.db.upsert(replicas, row, tuple(name for name in row if name != "id"))

    def heartbeat(self, replica_id: str, config_commit: str | None) -> bool:
        """The replica is alive now, serving the config at `config_commit`; False if it
        was never registered (its row was removed): the caller registers it again."""
        statement = (
            replicas.update()
            .where(replicas.c.id == replica_id)
            .values(heartbeat_at=self.db.clock(), config_commit=config_commit, stopped_at=None)
        )
        with self.db.engine.begin() as connection:
            return connection.execute(statement).rowcount == 1

    def stopped(self, replica_id: str) -> None:
        """The replica stopped cleanly."""
        statement = (
            replicas.update().where(replicas.c.id == replica_id).values(stopped_at=self.db.clock())
        )
        with self.db.engine.begin() as connection:
            connection.execute(statement)

    def record_config(
        self,
        replica_id: str | None,
        trigger: str,
        *,
        ok: bool,
        commit: str | None = None,
        clients: int | None = None,
        error: str | None = None,
    ) -> None:
        """One configuration load: applied (`ok`, its commit and clients) or rejected."""
        row = {
            "at": self.db.clock(),
            "replica": replica_id,
            "trigger": trigger,
            "ok": ok,
            "commit": commit,
            "clients": clients,
            "error": None if error is None else error[:ERROR_LENGTH],
        }
        with self.db.engine.begin() as connection:
            connection.execute(config_events.insert().values(row))
