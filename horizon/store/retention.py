"""Retention: blank what users wrote and were answered once it is older than a cutoff.

Rows stay, so counts, latencies, tokens and costs are still right; only text goes:
message bodies and media links, and the text of each turn's reply parts (their number is
kept). The work runs in batches of short transactions, so the webhook, writing beside
it, never waits long for a lock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Table, and_, func, or_, select, update

from horizon.store.backup_format import NoProgress, ProgressSink
from horizon.store.schema import messages, turns
from horizon.store.store import Store

BATCH = 500


@dataclass(frozen=True)
class PurgeReport:
    cutoff: float
    messages: int  # messages whose body or media were blanked
    turns: int  # turns whose reply text was blanked


def _old_messages(cutoff: float):
    # A message still waiting for its reply keeps its text: the worker has yet to read it.
    return and_(
        messages.c.created_at < cutoff,
        messages.c.status != "queued",
        or_(messages.c.body != "", messages.c.media.is_not(None)),
    )


def _old_turns(cutoff: float):
    # An unfinished turn may still send its parts (the outbox): they are not blanked.
    return and_(
        turns.c.started_at < cutoff, turns.c.finished_at.is_not(None), turns.c.parts.is_not(None)
    )


def _count(store: Store, table: Table, where) -> int:
    with store.engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(table).where(where)).scalar()
        )


def _in_batches(
    store: Store, table: Table, where, change: Callable[[Connection, list], int]
) -> int:
    """Apply `change` to the ids matching `where`, a batch per transaction, in id order."""
    changed, after = 0, 0
    while True:
        with store.engine.begin() as connection:
            query = (
                select(table.c.id, *([table.c.parts] if table is turns else []))
                .where(where, table.c.id > after)
                .order_by(table.c.id)
                .limit(BATCH)
            )
            rows = connection.execute(query).all()
            if not rows:
                return changed
            changed += change(connection, rows)
        after = rows[-1][0]


def purge_bodies(store: Store, cutoff: float, sink: ProgressSink | None = None) -> PurgeReport:
    """Blank message bodies, media and reply text older than `cutoff` (epoch seconds)."""
    sink = sink or NoProgress()
    sink.set_total(
        _count(store, messages, _old_messages(cutoff)) + _count(store, turns, _old_turns(cutoff))
    )

    def blank_messages(connection: Connection, rows: list) -> int:
        ids = [row[0] for row in rows]
        done = connection.execute(
            update(messages)
            .where(messages.c.id.in_(ids), _old_messages(cutoff))
            .values(body="", media=None)
        ).rowcount
        sink.advance(len(rows))
        return done

    def blank_turns(connection: Connection, rows: list) -> int:
        done = 0
        for turn_id, parts in rows:
            blank = json.dumps([""] * len(json.loads(parts)))
            if parts != blank:
                connection.execute(update(turns).where(turns.c.id == turn_id).values(parts=blank))
                done += 1
        sink.advance(len(rows))
        return done

    blanked_messages = _in_batches(store, messages, _old_messages(cutoff), blank_messages)
    blanked_turns = _in_batches(store, turns, _old_turns(cutoff), blank_turns)
    return PurgeReport(cutoff, blanked_messages, blanked_turns)
