"""What the operator panel's pages show, each figure an aggregate computed in the database.

    fleet_rows(store, fleet, now)          # Fleet (fleet_page.py): a row per client, and
                                           #   problem_key to sort problems first
    client_series(store, client, now)      # Client: 30 days of volume and latency, the
                                           #   month's cost by day, the top failure reasons
    conversations(store, fleet, ...)       # Conversations (threads.py): pairs, newest first
    thread(store, client_id, key)          # one pair's messages with latency and tokens

Rows are plain dicts of machine values (counts, epoch seconds, milliseconds, USD). Days
are UTC days. A page reads a few hundred rows at most, whatever the store holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Connection, Integer, case, cast, func, select

from horizon.config.client import Client
from horizon.config.prices import DEFAULT_PRICES, PriceTable
from horizon.queries import figures
from horizon.queries.fleet_page import (
    DAY,
    day_start,
    fleet_rows,
    ms,
    problem_key,
    problems,
    sort_problems_first,
)
from horizon.queries.threads import conversations, thread
from horizon.queries.window import month_bounds, month_of
from horizon.store.schema import messages, turns
from horizon.store.store import Store

__all__ = [
    "client_series",
    "conversations",
    "fleet_rows",
    "problem_key",
    "problems",
    "sort_problems_first",
    "thread",
]

SERIES_DAYS = 30
TOP_FAILURES = 5


def _date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d")


def _day_of(column: ColumnElement, start: float, dialect: str) -> ColumnElement:
    """The 0-based UTC day since `start` of an epoch-seconds column."""
    days = (column - start) / DAY
    # CAST truncates in SQLite (a floor for times after `start`) but rounds in PostgreSQL.
    return cast(func.floor(days) if dialect == "postgresql" else days, Integer).label("day")


def client_series(
    store: Store, client: Client, now: float, prices: PriceTable = DEFAULT_PRICES
) -> dict:
    """The client page's charts: `days` (messages and reply latency p50/p95 per day for 30
    days), `month` (cost per day this month, cumulative, against `budget_usd`) and
    `failures` (the most frequent reasons of the last 30 days)."""
    first = day_start(now) - (SERIES_DAYS - 1) * DAY
    month_start = month_bounds(month_of(now))[0]
    with store.engine.connect() as connection:
        volume = _daily_volume(connection, client.id, first, now)
        latency = _daily_latency(connection, client.id, first, now)
        month = _month_costs(connection, client.id, month_start, now, prices)
        failures = _failure_reasons(connection, client.id, first, now)
    days = []
    for n in range(SERIES_DAYS):
        inbound, outbound = volume.get(n, (0, 0))
        picks = latency.get(n, {})
        days.append(
            {
                "date": _date(first + n * DAY),
                "inbound": inbound,
                "outbound": outbound,
                "p50_ms": ms(picks.get(50)),
                "p95_ms": ms(picks.get(95)),
            }
        )
    return {
        "client": client.id,
        "days": days,
        "month": month,
        "budget_usd": client.limits.monthly_budget_usd,
        "failures": failures,
        "prices": prices.name,
    }


def _in_client(column_client, column_time, client_id: str, start: float, now: float) -> list:
    return [column_client == client_id, column_time >= start, column_time <= now]


def _daily_volume(
    connection: Connection, client_id: str, first: float, now: float
) -> dict[int, tuple[int, int]]:
    day = _day_of(messages.c.created_at, first, connection.dialect.name)
    query = (
        select(day, messages.c.direction, func.count())
        .where(*_in_client(messages.c.client_id, messages.c.created_at, client_id, first, now))
        .group_by(day, messages.c.direction)
    )
    volume: dict[int, tuple[int, int]] = {}
    for n, direction, count in connection.execute(query):
        inbound, outbound = volume.get(n, (0, 0))
        volume[n] = (inbound + count, outbound) if direction == "inbound" else (inbound, count)
    return volume


def _daily_latency(
    connection: Connection, client_id: str, first: float, now: float
) -> dict[int, dict[int, float]]:
    """p50 and p95 of each day's reply latency (nearest rank, as figures.reply_latencies)."""
    day = _day_of(messages.c.created_at, first, connection.dialect.name)
    latency = messages.c.answered_at - messages.c.created_at
    answered = [
        *_in_client(messages.c.client_id, messages.c.created_at, client_id, first, now),
        messages.c.direction == "inbound",
        messages.c.answered_at.is_not(None),
    ]
    wanted = (50, 95)
    if connection.dialect.name == "postgresql":
        picks = [func.percentile_disc(p / 100).within_group(latency) for p in wanted]
        query = select(day, *picks).where(*answered).group_by(day)
    else:
        ranked = (
            select(
                day,
                latency.label("latency"),
                func.row_number().over(partition_by=day, order_by=latency).label("rank"),
                func.count().over(partition_by=day).label("n"),
            )
            .where(*answered)
            .subquery()
        )
        picks = [
            func.max(case((ranked.c.rank == (ranked.c.n * p + 99) // 100, ranked.c.latency)))
            for p in wanted
        ]
        query = select(ranked.c.day, *picks).group_by(ranked.c.day)
    return {
        row[0]: {p: float(value) for p, value in zip(wanted, row[1:], strict=True)}
        for row in connection.execute(query)
    }


def _month_costs(
    connection: Connection, client_id: str, start: float, now: float, prices: PriceTable
) -> list[dict]:
    """Each day of the month so far: OpenAI (tokens by model) plus Twilio (messages)."""
    dialect = connection.dialect.name
    openai: dict[int, float] = defaultdict(float)
    twilio: dict[int, float] = defaultdict(float)
    day = _day_of(turns.c.started_at, start, dialect)
    used = (
        select(day, turns.c.model, func.sum(turns.c.input_tokens), func.sum(turns.c.output_tokens))
        .where(*_in_client(turns.c.client_id, turns.c.started_at, client_id, start, now))
        .where(turns.c.model.is_not(None))
        .group_by(day, turns.c.model)
    )
    for n, model, inp, out in connection.execute(used):
        openai[n] += prices.tokens(model, int(inp or 0), int(out or 0))
    day = _day_of(messages.c.created_at, start, dialect)
    sent = (
        select(day, messages.c.channel, messages.c.direction, func.count())
        .where(*_in_client(messages.c.client_id, messages.c.created_at, client_id, start, now))
        .group_by(day, messages.c.channel, messages.c.direction)
    )
    for n, channel, direction, count in connection.execute(sent):
        inbound = direction == "inbound"
        twilio[n] += prices.messages(channel, count if inbound else 0, 0 if inbound else count)
    return _cumulative(start, now, openai, twilio)


def _cumulative(
    start: float, now: float, openai: Mapping[int, float], twilio: Mapping[int, float]
) -> list[dict]:
    days, total, total_openai = [], 0.0, 0.0
    for n in range(int((day_start(now) - start) // DAY) + 1):
        cost = openai.get(n, 0.0) + twilio.get(n, 0.0)
        total += cost
        total_openai += openai.get(n, 0.0)
        days.append(
            {
                "date": _date(start + n * DAY),
                "cost_usd": round(cost, 6),
                "openai_usd": round(openai.get(n, 0.0), 6),
                "cumulative_usd": round(total, 6),
                # What the budget guard compares with monthly_budget_usd.
                "cumulative_openai_usd": round(total_openai, 6),
            }
        )
    return days


def _failure_reasons(
    connection: Connection, client_id: str, first: float, now: float
) -> list[dict]:
    """The most frequent errors of failed messages: no reply made, or not delivered."""
    failed = (messages.c.direction == "inbound") & (messages.c.status == "failed") | (
        messages.c.direction == "outbound"
    ) & messages.c.status.in_(figures.FAILED_OUTBOUND)
    reason = func.coalesce(messages.c.error, messages.c.direction + " " + messages.c.status)
    query = (
        select(reason.label("reason"), func.count().label("count"))
        .where(*_in_client(messages.c.client_id, messages.c.created_at, client_id, first, now))
        .where(failed)
        .group_by(reason)
        .order_by(func.count().desc(), reason)
        .limit(TOP_FAILURES)
    )
    return [{"reason": r, "count": c} for r, c in connection.execute(query)]
