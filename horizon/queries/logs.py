"""The conversation log: stored messages, both directions, filtered, and followed as they come.

    query = LogQuery(client_id="pizzeria-roma", since=time.time() - 3600, grep="mesa")
    for entry in window(store, query): ...          # everything in the window, oldest first
    recent(store, query, limit=100)                  # the newest 100, oldest first
    follower = Follower(store, query, newest_id(store))
    follower.poll()                                  # what was stored since, in id order

Latency: an inbound message's is answered_at - created_at (stored → its reply sent); an
outbound part's is its created_at less the created_at of the first message its turn
answers (what the user waited for that part). Users are masked (`masking.mask_user`).

The filters and the grep run in SQL. Time-ordered reads use the indexes on
(client_id, created_at), (client_id, user_number, created_at), (user_number, created_at)
and (created_at); following reads by primary key.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, func, or_, select

from horizon.queries.masking import mask_user
from horizon.store.schema import messages, work
from horizon.store.store import Store

PAGE = 500
# On PostgreSQL ids are drawn when a row is inserted but seen when it commits, and two
# writers (replicas, or the webhook and its worker) may commit out of id order: a follower
# that moved its cursor past an id still uncommitted would never show that row. So it keeps
# looking below its newest id for this long, long past any of the store's short
# transactions. SQLite has one writer at a time, so its ids appear in order.
SETTLE_SECONDS = 5.0
FOLD = "horizon_casefold"  # SQLite's lower() folds ASCII only: Python's casefold instead


@dataclass(frozen=True)
class LogQuery:
    """Which messages: all filters optional; `user_number` is E.164, `since` epoch seconds."""

    client_id: str | None = None
    user_number: str | None = None
    since: float | None = None
    grep: str | None = None  # a case-insensitive substring of the body


@dataclass(frozen=True)
class LogEntry:
    """One message as the log shows it (the user already masked)."""

    id: int
    time: float
    sid: str | None
    client_id: str | None
    user: str
    direction: str  # inbound | outbound
    text: str
    status: str
    latency: float | None  # seconds; None while an inbound message waits for its reply
    error: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time": datetime.fromtimestamp(self.time, UTC).isoformat(timespec="milliseconds"),
            "client": self.client_id,
            "user": self.user,
            "direction": self.direction,
            "status": self.status,
            "latency_s": None if self.latency is None else round(self.latency, 3),
            "text": self.text,
            "sid": self.sid,
            "error": self.error,
        }


def _latency() -> ColumnElement:
    asked = messages.alias("asked")
    first_asked = (
        select(func.min(asked.c.created_at))
        .select_from(work.join(asked, asked.c.id == work.c.message_id))
        .where(work.c.turn_id == messages.c.turn_id)
        .scalar_subquery()
    )
    return case(
        (messages.c.direction == "inbound", messages.c.answered_at - messages.c.created_at),
        else_=messages.c.created_at - first_asked,
    ).label("latency")


COLUMNS = (
    messages.c.id,
    messages.c.created_at,
    messages.c.sid,
    messages.c.client_id,
    messages.c.user_number,
    messages.c.direction,
    messages.c.body,
    messages.c.status,
    messages.c.error,
)


def _entry(row: Any) -> LogEntry:
    return LogEntry(
        id=row.id,
        time=row.created_at,
        sid=row.sid,
        client_id=row.client_id,
        user=mask_user(row.user_number),
        direction=row.direction,
        text=row.body or "",
        status=row.status,
        latency=row.latency,
        error=row.error,
    )


def _conditions(query: LogQuery, dialect: str) -> list[ColumnElement]:
    conditions: list[ColumnElement] = []
    if query.client_id is not None:
        conditions.append(messages.c.client_id == query.client_id)
    if query.user_number is not None:
        conditions.append(messages.c.user_number == query.user_number)
    if query.since is not None:
        conditions.append(messages.c.created_at >= query.since)
    if query.grep:
        if dialect == "sqlite":
            found = func.instr(getattr(func, FOLD)(messages.c.body), query.grep.casefold())
        else:
            found = func.strpos(func.lower(messages.c.body), func.lower(query.grep))
        conditions.append(found > 0)
    return conditions


def _casefold(value: object) -> object:
    return value.casefold() if isinstance(value, str) else value


def _reading(store: Store) -> Connection:
    """A connection for reading, with SQLite taught the case folding the grep uses."""
    connection = store.engine.connect()
    if store.dialect == "sqlite":
        raw = connection.connection.driver_connection
        raw.create_function(FOLD, 1, _casefold, deterministic=True)  # type: ignore[union-attr]
    return connection


def _select(query: LogQuery, dialect: str, *more: ColumnElement):
    return select(*COLUMNS, _latency()).where(*_conditions(query, dialect), *more)


def newest_id(store: Store) -> int:
    """The newest message's id (0 when there is none): where following starts."""
    with store.engine.connect() as connection:
        return connection.execute(select(func.max(messages.c.id))).scalar() or 0


def recent_statement(query: LogQuery, dialect: str, limit: int, until_id: int | None = None):
    """The SELECT behind `recent` (its plan is what the indexes are tested against)."""
    more = [] if until_id is None else [messages.c.id <= until_id]
    return (
        _select(query, dialect, *more)
        .order_by(messages.c.created_at.desc(), messages.c.id.desc())
        .limit(limit)
    )


def recent(
    store: Store, query: LogQuery, limit: int, until_id: int | None = None
) -> list[LogEntry]:
    """The newest `limit` messages matching `query` (up to `until_id`), oldest first."""
    statement = recent_statement(query, store.dialect, limit, until_id)
    with _reading(store) as connection:
        rows = connection.execute(statement).all()
    return [_entry(row) for row in reversed(rows)]


def window(store: Store, query: LogQuery, until_id: int | None = None) -> Iterator[LogEntry]:
    """Every message matching `query` (up to `until_id`), oldest first, read a page at a time."""
    after: tuple[float, int] | None = None
    more = [] if until_id is None else [messages.c.id <= until_id]
    while True:
        page_from = []
        if after is not None:  # keyset paging on (created_at, id): each page starts where it left
            at, last = after
            page_from = [
                messages.c.created_at >= at,
                or_(
                    messages.c.created_at > at,
                    and_(messages.c.created_at == at, messages.c.id > last),
                ),
            ]
        statement = (
            _select(query, store.dialect, *more, *page_from)
            .order_by(messages.c.created_at, messages.c.id)
            .limit(PAGE)
        )
        with _reading(store) as connection:
            rows = connection.execute(statement).all()
        yield from (_entry(row) for row in rows)
        if len(rows) < PAGE:
            return
        after = (rows[-1].created_at, rows[-1].id)


class Follower:
    """Messages matching a query as they are stored after `after_id`, each once, in id order
    within a poll.

    A message is shown as it was when first read: an inbound message usually `queued`,
    without latency; its answer follows as outbound lines carrying the turn's latency.
    """

    def __init__(
        self,
        store: Store,
        query: LogQuery,
        after_id: int,
        settle: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.query, self.clock = store, query, clock
        self.settle = settle if settle is not None else _settle_for(store.dialect)
        self._floor = after_id  # every id at or below it is settled: shown, or not ours
        self._marks: deque[tuple[float, int]] = deque()  # (when, the newest id then)
        self._shown: set[int] = set()  # ids above the floor already shown

    def poll(self) -> list[LogEntry]:
        """What was stored (and matches) since the last poll."""
        now = self.clock()
        with _reading(self.store) as connection:
            top = connection.execute(select(func.max(messages.c.id))).scalar() or 0
            candidates = select(messages.c.id).where(
                messages.c.id > self._floor,
                messages.c.id <= top,
                *_conditions(self.query, self.store.dialect),
            )
            new = [i for i in connection.execute(candidates).scalars() if i not in self._shown]
            entries = []
            for start in range(0, len(new), PAGE):
                chunk = new[start : start + PAGE]
                statement = select(*COLUMNS, _latency()).where(messages.c.id.in_(chunk))
                entries += [_entry(row) for row in connection.execute(statement)]
        entries.sort(key=lambda entry: entry.id)
        self._shown.update(new)
        self._advance(now, top)
        return entries

    def _advance(self, now: float, top: int) -> None:
        self._marks.append((now, top))
        while self._marks and self._marks[0][0] <= now - self.settle:
            self._floor = max(self._floor, self._marks.popleft()[1])
        self._shown = {i for i in self._shown if i > self._floor}


def _settle_for(dialect: str) -> float:
    return 0.0 if dialect == "sqlite" else SETTLE_SECONDS
