"""The panel's System page: which replicas serve (their heartbeats), the work queue's depth
and oldest message, the database, and the configuration each replica loaded."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from horizon.store.migrations import current_version
from horizon.store.replicas import ALIVE_WITHIN
from horizon.store.schema import config_events, replicas, work
from horizon.store.store import Store

OPEN_WORK = ("pending", "claimed")
RECENT_REPLICAS = 20  # the newest heartbeats shown: the serving ones and the latest gone
RECENT_RELOADS = 20


def system_status(store: Store, now: float) -> dict:
    """Everything the System page shows but the drift check (the panel runs that)."""
    with store.engine.connect() as connection:
        serving = _replicas(connection, now)
        depth, oldest = _queue(connection)
        reloads = _reloads(connection)
    alive = [replica for replica in serving if replica["alive"]]
    applied = [event for event in reloads if event["ok"]]
    commit = alive[0]["config_commit"] if alive else applied[0]["commit"] if applied else None
    return {
        "replicas": serving,
        "queue_depth": depth,
        "oldest_unanswered_age_s": None if oldest is None else max(0.0, now - oldest),
        "database": {
            "dialect": store.dialect,
            "url": store.engine.url.render_as_string(hide_password=True),
            "schema_version": current_version(store.engine),
        },
        "config": {"commit": commit, "reloads": reloads},
    }


def _replicas(connection: Connection, now: float) -> list[dict]:
    """The newest replicas by heartbeat, newest first; alive when one beat lately and it
    did not say it stopped."""
    query = select(replicas).order_by(replicas.c.heartbeat_at.desc()).limit(RECENT_REPLICAS)
    return [
        {
            "id": row.id,
            "host": row.host,
            "pid": row.pid,
            "version": row.version,
            "started_at": row.started_at,
            "heartbeat_at": row.heartbeat_at,
            "stopped_at": row.stopped_at,
            "alive": row.stopped_at is None and row.heartbeat_at >= now - ALIVE_WITHIN,
            "config_commit": row.config_commit,
        }
        for row in connection.execute(query)
    ]


def _queue(connection: Connection) -> tuple[int, float | None]:
    """Messages waiting for (or in) a turn, and when the oldest of them was queued."""
    query = select(func.count(), func.min(work.c.enqueued_at)).where(work.c.state.in_(OPEN_WORK))
    depth, oldest = connection.execute(query).one()
    return int(depth), None if oldest is None else float(oldest)


def _reloads(connection: Connection) -> list[dict]:
    query = select(config_events).order_by(config_events.c.id.desc()).limit(RECENT_RELOADS)
    return [
        {
            "at": row.at,
            "replica": row.replica,
            "trigger": row.trigger,
            "ok": bool(row.ok),
            "commit": row.commit,
            "clients": row.clients,
            "error": row.error,
        }
        for row in connection.execute(query)
    ]
