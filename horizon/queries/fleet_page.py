"""The panel's Fleet page: a row of figures per client, and the order that puts problems
first. Three reads whatever the fleet's size: the last 24 hours' messages (one GROUP BY
giving the day's and today's counts, failures and each client's last message), 24 hours of
reply latencies, and the month's token ledger; plus the month's earlier messages, counted
once per few minutes."""

from __future__ import annotations

import time
import weakref
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, case, func, select

from horizon.config.fleet import Fleet
from horizon.config.prices import DEFAULT_PRICES, PriceTable
from horizon.queries import figures
from horizon.queries.fleet import month_cost
from horizon.queries.window import Window, month_bounds, month_of
from horizon.store.schema import messages
from horizon.store.store import Store

DAY = 86400.0
BUDGET_ALERT = 0.9  # budget burn above this fraction is a problem
ONLINE = "ONLINE"
SYNCED = "Synced"


def day_start(epoch: float) -> float:
    """The epoch second the UTC day of `epoch` began."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC).timestamp()


def ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


def fleet_rows(
    store: Store, fleet: Fleet, now: float, prices: PriceTable = DEFAULT_PRICES
) -> list[dict]:
    """A row per client of `fleet`, sorted by id: all the fleet page shows but the sender's
    and the sync status (which come from the vendors, not the store).

    The month's messages before today, which only change when they are purged, are
    counted once per `CLOSED_DAYS_TTL` (see `_closed_days`).
    """
    month = month_of(now)
    day = Window(now - DAY, now + 1e-6, "last 24h")
    today_start = day_start(now)
    before_today = Window(month_bounds(month)[0], today_start, f"{month} before today")
    ids = [client.id for client in fleet]
    with store.engine.connect() as connection:
        recent = _last_day(connection, day, today_start)
        latencies = figures.reply_latencies(connection, day)
        earlier = _closed_days(store, connection, before_today)
        tokens = figures.month_usage(connection, month)
        quiet = [client_id for client_id in ids if client_id not in recent]
        last = figures.last_message_times(connection, quiet) if quiet else {}
    rows = []
    for client in fleet:
        figures_24h = recent.get(client.id, LastDay())
        today_counts = figures_24h.today
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
                "messages_24h": figures_24h.counts.inbound + figures_24h.counts.outbound,
                "p95_ms_24h": ms(p95),
                "failures_24h": figures_24h.counts.failed_inbound
                + figures_24h.counts.failed_outbound,
                "last_message_at": figures_24h.last_at or last.get(client.id),
                **month_cost(month, openai_usd, twilio_usd, budget),
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


@dataclass
class LastDay:
    """One client's last 24 hours: its messages, those of today, and the newest one's time."""

    counts: figures.MessageCounts = field(default_factory=figures.MessageCounts)
    today: figures.MessageCounts = field(default_factory=figures.MessageCounts)
    last_at: float | None = None


def _last_day(connection: Connection, day: Window, today_start: float) -> dict[str, LastDay]:
    """The last 24 hours per client in one GROUP BY (today is within them)."""
    query = (
        select(
            messages.c.client_id,
            messages.c.direction,
            messages.c.channel,
            func.count(),
            func.sum(figures.FAILED),
            func.sum(case((messages.c.created_at >= today_start, 1), else_=0)),
            func.max(messages.c.created_at),
        )
        .where(messages.c.created_at >= day.start, messages.c.created_at < day.end)
        .where(messages.c.client_id.is_not(None))
        .group_by(messages.c.client_id, messages.c.direction, messages.c.channel)
    )
    found: dict[str, LastDay] = defaultdict(LastDay)
    for client_id, direction, channel, count, failures, today, newest in connection.execute(query):
        row = found[client_id]
        _add(row.counts, direction, channel, count, int(failures or 0))
        _add(row.today, direction, channel, int(today or 0), 0)
        row.last_at = max(row.last_at or 0.0, float(newest))
    return dict(found)


def _add(
    counts: figures.MessageCounts, direction: str, channel: str, count: int, failures: int
) -> None:
    inbound, outbound = counts.by_channel.get(channel, (0, 0))
    if direction == "inbound":
        counts.inbound += count
        counts.failed_inbound += failures
        counts.by_channel[channel] = (inbound + count, outbound)
    else:
        counts.outbound += count
        counts.failed_outbound += failures
        counts.by_channel[channel] = (inbound, outbound + count)


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
