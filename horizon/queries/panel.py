"""What the operator panel's pages show, each figure an aggregate computed in the database.

    fleet_rows(store, fleet, now)          # Fleet: a row per client; sort with problem_key
    client_series(store, client, now)      # Client: 30 days of volume and latency, the
                                           #   month's cost by day, the top failure reasons
    conversations(store, fleet, ...)       # Conversations (threads.py): pairs, newest first
    thread(store, client_id, key)          # one pair's messages with latency and tokens

Rows are plain dicts of machine values (counts, epoch seconds, milliseconds, USD). Days
are UTC days. A page reads a few hundred rows at most, whatever the store holds.
"""

from __future__ import annotations

import time
import weakref
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Connection, Engine, Integer, case, cast, func, select

from horizon.config.client import Client
from horizon.config.fleet import Fleet
from horizon.config.prices import DEFAULT_PRICES, PriceTable
from horizon.queries import figures
from horizon.queries.threads import conversations, thread
from horizon.queries.window import Window, month_bounds, month_of
from horizon.store.schema import messages, turns
from horizon.store.store import Store

__all__ = ["client_series", "conversations", "fleet_rows", "problem_key", "problems", "thread"]

DAY = 86400.0
SERIES_DAYS = 30
TOP_FAILURES = 5
BUDGET_ALERT = 0.9  # budget burn above this fraction is a problem
ONLINE = "ONLINE"
SYNCED = "Synced"


def day_start(epoch: float) -> float:
    """The epoch second the UTC day of `epoch` began."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC).timestamp()


def _date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d")


def fleet_rows(
    store: Store, fleet: Fleet, now: float, prices: PriceTable = DEFAULT_PRICES
) -> list[dict]:
    """A row per client of `fleet`, sorted by id: all the fleet page shows but the sender's
    and the sync status (which come from the vendors, not the store).

    Reads the last 24 hours (messages, failures, latencies, last message), today, and the
    month's token ledger; the month's messages before today, which only change when they
    are purged, are counted once per `CLOSED_DAYS_TTL` (see `_closed_days`).
    """
    month = month_of(now)
    day = Window(now - DAY, now + 1e-6, "last 24h")
    today = Window(day_start(now), now + 1e-6, "today")
    before_today = Window(month_bounds(month)[0], today.start, f"{month} before today")
    ids = [client.id for client in fleet]
    with store.engine.connect() as connection:
        last_day = figures.message_counts(connection, day)
        this_day = figures.message_counts(connection, today)
        latencies = figures.reply_latencies(connection, day)
        earlier = _closed_days(store, connection, before_today)
        tokens = figures.month_usage(connection, month)
        last = _last_messages(connection, day, ids)
    rows = []
    for client in fleet:
        recent = last_day.get(client.id, figures.MessageCounts())
        today_counts = this_day.get(client.id, figures.MessageCounts())
        openai_usd = tokens.get(client.id, figures.TokenUse()).cost(prices)
        twilio_usd = today_counts.cost(prices)
        twilio_usd += earlier.get(client.id, figures.MessageCounts()).cost(prices)
        budget = client.limits.monthly_budget_usd
        p95 = latencies.get(client.id, {}).get(95)
        rows.append(
            {
                "client": client.id,
                "name": client.name,
                "number": client.number,
                "channel": client.channel,
                "enabled": client.enabled,
                "messages_today": today_counts.inbound + today_counts.outbound,
                "inbound_today": today_counts.inbound,
                "messages_24h": recent.inbound + recent.outbound,
                "p95_ms_24h": _ms(p95),
                "failures_24h": recent.failed_inbound + recent.failed_outbound,
                "last_message_at": last.get(client.id),
                "month": month,
                "openai_usd": round(openai_usd, 6),
                "twilio_usd": round(twilio_usd, 6),
                "cost_usd": round(openai_usd + twilio_usd, 6),
                "budget_usd": budget,
                # What the budget guard compares: the month's OpenAI spend.
                "budget_used": openai_usd / budget if budget else None,
            }
        )
    return rows


# engine -> (window start, window end, when counted (monotonic), the counts)
_CLOSED_COUNTS: weakref.WeakKeyDictionary[Engine, tuple[float, float, float, dict]] = (
    weakref.WeakKeyDictionary()
)
CLOSED_DAYS_TTL = 300.0


def _closed_days(
    store: Store, connection: Connection, window: Window
) -> dict[str, figures.MessageCounts]:
    """The month's messages before today, per client: counted once per `CLOSED_DAYS_TTL`.

    They are most of a month (hundreds of thousands of rows by its end, the one read here
    that grows with the fleet's traffic), and fixed once their day is over: a message
    only moves from there when `horizon purge` or `forget` deletes it, which the next
    count, minutes later, shows.
    """
    if window.end <= window.start:
        return {}
    cached = _CLOSED_COUNTS.get(store.engine)
    fresh = cached is not None and time.monotonic() - cached[2] < CLOSED_DAYS_TTL
    if cached is not None and fresh and cached[:2] == (window.start, window.end):
        return cached[3]
    counts = figures.message_counts(connection, window)
    _CLOSED_COUNTS[store.engine] = (window.start, window.end, time.monotonic(), counts)
    return counts


def _last_messages(connection: Connection, day: Window, ids: list[str]) -> dict[str, float]:
    """Each client's newest message: from the last 24 hours' rows, and one indexed MAX each
    for the clients quiet that long."""
    query = (
        select(messages.c.client_id, func.max(messages.c.created_at))
        .where(messages.c.created_at >= day.start, messages.c.client_id.in_(ids))
        .group_by(messages.c.client_id)
    )
    found = {client_id: float(at) for client_id, at in connection.execute(query)}
    quiet = [client_id for client_id in ids if client_id not in found]
    return found | (figures.last_message_times(connection, quiet) if quiet else {})


def problems(
    row: Mapping, sender_status: str | None = None, sync_status: str | None = None
) -> list[str]:
    """What needs an operator's eye in a fleet row, most urgent first (empty: all well).

    In this order: a WhatsApp sender Twilio does not list as ONLINE (no one can write to
    the number), a client out of sync with git (OutOfSync, Missing, NotManaged), failed
    messages in the last 24 hours, a month's budget over 90 % spent, a disabled client.
    """
    found = []
    if row.get("channel") == "whatsapp" and sender_status and sender_status != ONLINE:
        found.append(f"sender {sender_status}")
    if sync_status and sync_status != SYNCED:
        found.append(sync_status)
    if row.get("failures_24h"):
        found.append(f"{row['failures_24h']} failed in 24 h")
    if (row.get("budget_used") or 0) > BUDGET_ALERT:
        found.append(f"budget {row['budget_used']:.0%} used")
    if row.get("enabled") is False:
        found.append("disabled")
    return found


def problem_key(
    row: Mapping, sender_status: str | None = None, sync_status: str | None = None
) -> tuple:
    """Sort key putting problems first: `sorted(rows, key=problem_key)`.

    Rows compare by their most urgent problem (the order `problems` lists them in: sender
    not online, out of sync, failures in 24 h, budget over 90 %, disabled, then none);
    then by more failures, more budget burnt, and the client id.
    """
    sender_down = row.get("channel") == "whatsapp" and sender_status not in (None, ONLINE)
    drifted = sync_status not in (None, SYNCED)
    failing = bool(row.get("failures_24h"))
    burnt = (row.get("budget_used") or 0) > BUDGET_ALERT
    disabled = row.get("enabled") is False
    flags = (sender_down, drifted, failing, burnt, disabled)
    rank = next((n for n, flag in enumerate(flags) if flag), len(flags))
    return (rank, -(row.get("failures_24h") or 0), -(row.get("budget_used") or 0), row["client"])


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
                "p50_ms": _ms(picks.get(50)),
                "p95_ms": _ms(picks.get(95)),
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


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


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


def sort_problems_first(
    rows: Iterable[dict],
    sender_status: Mapping[str, str | None] | None = None,
    sync_status: Mapping[str, str | None] | None = None,
) -> list[dict]:
    """`rows` with problems first (see `problem_key`); statuses by client id."""
    senders, syncs = sender_status or {}, sync_status or {}
    return sorted(
        rows, key=lambda row: problem_key(row, senders.get(row["client"]), syncs.get(row["client"]))
    )
