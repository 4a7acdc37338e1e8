"""Conversations for the panel: (client, user) pairs by their newest message, and one pair's
thread, with users masked and a pair named by an opaque key instead of its number.

A pair's key is the id of one of its messages (`str(id)`): it names the pair in a URL
without the number in it, and keeps working while that message is stored.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, literal, or_, select, union_all

from horizon.config.fleet import Fleet
from horizon.queries.logs import FOLD, _latency, _reading
from horizon.queries.masking import NumberError, mask_user, normalise_number
from horizon.store.schema import messages
from horizon.store.store import Store

FIRST_PAGE, PAGE = 100, 2000  # pages grow: a rare match is found without a long first read
UNION_CHUNK = 200  # SQLite refuses a compound SELECT of more than 500 parts
THREAD_LIMIT = 200
MIN_SUFFIX = 4  # the digits the panel shows of a user: enough to find them again
MAX_SUFFIX = 6  # more digits typed without '+' are not taken for the end of a number


class SearchError(ValueError):
    """A search the panel cannot run as typed; the message says why in one line."""


def _user_condition(connection: Connection, user: str, client: str | None) -> ColumnElement:
    """A full number matches exactly; its last digits (as the panel shows it masked,
    `+*******0001`, or just `0001`) match the numbers ending so."""
    typed = user.strip()
    digits = typed.lstrip("+*")
    if "*" in typed or (typed.isdigit() and len(typed) <= MAX_SUFFIX):
        if not digits.isdigit() or len(digits) < MIN_SUFFIX:
            raise SearchError(f"user {user!r}: give at least the last {MIN_SUFFIX} digits")
        # The numbers first (one pass over an index, ~0.1 s for a million messages), then
        # their messages by index: a LIKE '%…' in the paged read scans the table for each
        # page, and all of it when nothing matches.
        numbers = (
            select(messages.c.user_number)
            .distinct()
            .where(messages.c.user_number.like(f"%{digits}"))
        )
        if client:
            numbers = numbers.where(messages.c.client_id == client)
        return messages.c.user_number.in_(list(connection.execute(numbers).scalars()))
    try:
        return messages.c.user_number == normalise_number(user)
    except NumberError as error:
        raise SearchError(f"user: {error}") from None


def _conditions(
    connection: Connection,
    client: str | None,
    user: str | None,
    text: str | None,
    since: float | None,
    until: float | None,
) -> list[ColumnElement]:
    found: list[ColumnElement] = [messages.c.client_id.is_not(None)]
    if client:
        found.append(messages.c.client_id == client)
    if user:
        found.append(_user_condition(connection, user, client))
    if since is not None:
        found.append(messages.c.created_at >= since)
    if until is not None:
        found.append(messages.c.created_at < until)
    if since is not None and until is not None and until <= since:
        raise SearchError("the end of the period is not after its start")
    if text:
        if connection.dialect.name == "sqlite":
            hit = func.instr(getattr(func, FOLD)(messages.c.body), text.casefold())
        else:
            hit = func.strpos(func.lower(messages.c.body), func.lower(text))
        found.append(hit > 0)
    return found


def conversations(
    store: Store,
    fleet: Fleet,
    client: str | None = None,
    user: str | None = None,
    text: str | None = None,
    since: float | None = None,
    until: float | None = None,
    limit: int = 50,
) -> list[dict]:
    """The `limit` pairs with the newest matching messages, newest first, each with its
    newest matching message and its number of messages. `user` is a number or its last
    digits; `text` a case-insensitive part of a message. Raises SearchError on bad input.

    Reads the matching messages newest first a page at a time, only until `limit` pairs
    are found: the newest 50 conversations of a million messages cost a page or two.
    """
    names = {c.id: c.name for c in fleet}
    pairs: dict[tuple[str, str], Any] = {}
    with _reading(store) as connection:
        conditions = _conditions(connection, client, user, text, since, until)
        after: tuple[float, int] | None = None
        size = max(FIRST_PAGE, 2 * limit)
        while len(pairs) < limit:
            rows = _page(connection, conditions, after, size)
            for row in rows:
                pairs.setdefault((row.client_id, row.user_number), row)
                if len(pairs) >= limit:
                    break
            if len(rows) < size:
                break
            after = (rows[-1].created_at, rows[-1].id)
            size = min(PAGE, size * 4)
        counts = _message_counts(connection, list(pairs))
    return [
        {
            "key": str(row.id),
            "client": row.client_id,
            "client_name": names.get(row.client_id),
            "user": mask_user(row.user_number),
            "last_at": row.created_at,
            "last_direction": row.direction,
            "last_status": row.status,
            "last_text": row.body or "",
            "messages": counts.get(pair, 0),
        }
        for pair, row in pairs.items()
    ]


def _page(
    connection: Connection, conditions: list, after: tuple[float, int] | None, size: int
) -> list:
    more = []
    if after is not None:  # keyset paging on (created_at, id), newest first
        at, last = after
        more = [
            messages.c.created_at <= at,
            or_(
                messages.c.created_at < at, and_(messages.c.created_at == at, messages.c.id < last)
            ),
        ]
    query = (
        select(
            messages.c.id,
            messages.c.created_at,
            messages.c.client_id,
            messages.c.user_number,
            messages.c.direction,
            messages.c.status,
            messages.c.body,
        )
        .where(*conditions, *more)
        .order_by(messages.c.created_at.desc(), messages.c.id.desc())
        .limit(size)
    )
    return connection.execute(query).all()


def _message_counts(
    connection: Connection, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """Each pair's messages: one indexed count per pair (ix_messages_pair_time), in one
    statement; SQLite reads a row-value IN list without that index."""
    if not pairs:
        return {}
    counts = [
        select(literal(client_id), literal(user), func.count()).where(
            messages.c.client_id == client_id, messages.c.user_number == user
        )
        for client_id, user in pairs
    ]
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(counts), UNION_CHUNK):
        for client_id, user, count in connection.execute(
            union_all(*counts[start : start + UNION_CHUNK])
        ):
            found[(client_id, user)] = count
    return found


def _user_of(connection: Connection, client_id: str, key: str) -> str | None:
    """The number a key names (a message id of the pair), or a number given as such."""
    if key.startswith("+"):
        return key
    if not key.isdigit():
        return None
    query = select(messages.c.user_number).where(
        messages.c.id == int(key), messages.c.client_id == client_id
    )
    return connection.execute(query).scalar()


def thread(
    store: Store,
    client_id: str,
    user_number_or_key: str,
    limit: int = THREAD_LIMIT,
    before_id: int | None = None,
) -> dict | None:
    """The pair's newest `limit` messages (older than `before_id`), oldest first, each with
    its status, latency (ms) and tokens; None when the key names no pair of `client_id`."""
    with _reading(store) as connection:
        number = _user_of(connection, client_id, user_number_or_key)
        if number is None:
            return None
        more = [] if before_id is None else [messages.c.id < before_id]
        query = (
            select(
                messages.c.id,
                messages.c.created_at,
                messages.c.direction,
                messages.c.body,
                messages.c.status,
                messages.c.error,
                messages.c.input_tokens,
                messages.c.output_tokens,
                _latency(),
            )
            .where(messages.c.client_id == client_id, messages.c.user_number == number, *more)
            .order_by(messages.c.created_at.desc(), messages.c.id.desc())
            .limit(limit)
        )
        rows = connection.execute(query).all()
    if not rows and not user_number_or_key.isdigit():
        return None
    return {
        "client": client_id,
        "key": str(rows[-1].id) if rows else user_number_or_key,
        "user": mask_user(number),
        "messages": [_message(row) for row in reversed(rows)],
        "more": len(rows) == limit,
    }


def _message(row: Any) -> dict:
    return {
        "id": row.id,
        "time": row.created_at,
        "direction": row.direction,
        "text": row.body or "",
        "status": row.status,
        "error": row.error,
        "latency_ms": None if row.latency is None else round(row.latency * 1000),
        "input_tokens": row.input_tokens,
        "output_tokens": row.output_tokens,
    }
