"""The aggregates every figure is made of, each one GROUP BY in the database.

A month of a busy fleet is hundreds of thousands of rows: these queries return a few rows
per client (per direction and channel, per kind and model), never the rows themselves.
Migration 7's indexes let each one read an index in time order instead of the table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection, case, func, literal, select, union_all
from sqlalchemy.dialects import postgresql

from horizon.config.prices import PriceTable
from horizon.queries.window import Window
from horizon.store.schema import messages, monthly_usage, opt_outs, turns

FAILED_OUTBOUND = ("failed", "undelivered")
PERCENTILES = (50, 95, 99)
# 1 for a failed message: an inbound one no reply could be made for, or a reply Twilio
# reported failed or undelivered; 0 otherwise (summed per client).
FAILED = case(
    (
        (messages.c.direction == "inbound") & (messages.c.status == "failed")
        | (messages.c.direction == "outbound") & messages.c.status.in_(FAILED_OUTBOUND),
        1,
    ),
    else_=0,
)
# SQLite refuses a compound SELECT of more than 500 parts (SQLITE_MAX_COMPOUND_SELECT).
_UNION_CHUNK = 200


@dataclass
class MessageCounts:
    """One client's messages in a window, by direction and channel."""

    inbound: int = 0
    outbound: int = 0
    failed_inbound: int = 0  # no reply could be made
    failed_outbound: int = 0  # Twilio or WhatsApp could not deliver it
    by_channel: dict[str, tuple[int, int]] = field(default_factory=dict)  # (inbound, outbound)

    def cost(self, prices: PriceTable) -> float:
        return sum(prices.messages(ch, i, o) for ch, (i, o) in self.by_channel.items())


@dataclass
class TokenUse:
    """One client's turns in a window: counts by kind, and tokens by model."""

    kinds: dict[str, int] = field(default_factory=dict)
    by_model: dict[str, tuple[int, int]] = field(default_factory=dict)  # (input, output)

    @property
    def input_tokens(self) -> int:
        return sum(used[0] for used in self.by_model.values())

    @property
    def output_tokens(self) -> int:
        return sum(used[1] for used in self.by_model.values())

    def cost(self, prices: PriceTable) -> float:
        return sum(prices.tokens(m or None, i, o) for m, (i, o) in self.by_model.items())


def _in(column, window: Window):
    return (column >= window.start) & (column < window.end)


def _only(query, column, client_ids: Collection[str] | None):
    return query if client_ids is None else query.where(column.in_(list(client_ids)))


def message_counts(
    connection: Connection, window: Window, client_ids: Collection[str] | None = None
) -> dict[str, MessageCounts]:
    """Messages per client in `window` (routed ones only), from one GROUP BY."""
    query = (
        select(
            messages.c.client_id,
            messages.c.direction,
            messages.c.channel,
            func.count(),
            func.sum(FAILED),
        )
        .where(_in(messages.c.created_at, window), messages.c.client_id.is_not(None))
        .group_by(messages.c.client_id, messages.c.direction, messages.c.channel)
    )
    counts: dict[str, MessageCounts] = defaultdict(MessageCounts)
    for client_id, direction, channel, count, failures in connection.execute(
        _only(query, messages.c.client_id, client_ids)
    ):
        row = counts[client_id]
        inbound, outbound = row.by_channel.get(channel, (0, 0))
        if direction == "inbound":
            row.inbound += count
            row.failed_inbound += int(failures or 0)
            row.by_channel[channel] = (inbound + count, outbound)
        else:
            row.outbound += count
            row.failed_outbound += int(failures or 0)
            row.by_channel[channel] = (inbound, outbound + count)
    return dict(counts)


def unique_users(
    connection: Connection, window: Window, client_ids: Collection[str] | None = None
) -> dict[str, int]:
    """Distinct users who wrote to each client in `window`."""
    query = (
        select(messages.c.client_id, func.count(messages.c.user_number.distinct()))
        .where(
            _in(messages.c.created_at, window),
            messages.c.direction == "inbound",
            messages.c.client_id.is_not(None),
        )
        .group_by(messages.c.client_id)
    )
    return dict(connection.execute(_only(query, messages.c.client_id, client_ids)).all())


def reply_latencies(
    connection: Connection, window: Window, client_ids: Collection[str] | None = None
) -> dict[str, dict[int, float]]:
    """p50/p95/p99 of answered_at - created_at of each client's answered inbound messages.

    Nearest rank: the value at rank ceil(p·n) in latency order. PostgreSQL has it as
    percentile_disc; SQLite has no percentile aggregate, so there the rank is taken with
    window functions. Both give the same figure for the same rows.
    """
    latency = messages.c.answered_at - messages.c.created_at
    answered = _only(
        select().where(
            _in(messages.c.created_at, window),
            messages.c.direction == "inbound",
            messages.c.answered_at.is_not(None),
            messages.c.client_id.is_not(None),
        ),
        messages.c.client_id,
        client_ids,
    )
    if connection.dialect.name == "postgresql":
        # One ordered-set aggregate for the three percentiles: one sort per client.
        fractions = postgresql.array([literal(p / 100) for p in PERCENTILES])
        picks = func.percentile_disc(fractions).within_group(latency)
        query = answered.add_columns(messages.c.client_id, picks).group_by(messages.c.client_id)
        return {
            client_id: {p: float(v) for p, v in zip(PERCENTILES, values, strict=True)}
            for client_id, values in connection.execute(query)
        }
    # SQLite: the rank of each latency within its client, and the client's count.
    ranked = answered.add_columns(
        messages.c.client_id.label("client_id"),
        latency.label("latency"),
        func.row_number().over(partition_by=messages.c.client_id, order_by=latency).label("rank"),
        func.count().over(partition_by=messages.c.client_id).label("n"),
    ).subquery()
    picks = [
        func.max(case((ranked.c.rank == (ranked.c.n * p + 99) // 100, ranked.c.latency)))
        for p in PERCENTILES
    ]
    query = select(ranked.c.client_id, *picks).group_by(ranked.c.client_id)
    return {
        row[0]: {p: float(value) for p, value in zip(PERCENTILES, row[1:], strict=True)}
        for row in connection.execute(query)
    }


def turn_use(
    connection: Connection, window: Window, client_ids: Collection[str] | None = None
) -> dict[str, TokenUse]:
    """Turns begun in `window` per client: how many of each kind, tokens per model."""
    query = select(
        turns.c.client_id,
        turns.c.kind,
        turns.c.model,
        func.count(),
        func.sum(turns.c.input_tokens),
        func.sum(turns.c.output_tokens),
    ).where(_in(turns.c.started_at, window))
    query = query.group_by(turns.c.client_id, turns.c.kind, turns.c.model)
    used: dict[str, TokenUse] = defaultdict(TokenUse)
    for client_id, kind, model, count, inp, out in connection.execute(
        _only(query, turns.c.client_id, client_ids)
    ):
        row = used[client_id]
        name = kind or "unfinished"
        row.kinds[name] = row.kinds.get(name, 0) + count
        if model is not None:
            before = row.by_model.get(model, (0, 0))
            row.by_model[model] = (before[0] + int(inp or 0), before[1] + int(out or 0))
    return dict(used)


def opt_out_counts(
    connection: Connection, window: Window, client_ids: Collection[str] | None = None
) -> dict[str, int]:
    """Users who opted out of each client in `window` and have not opted back in."""
    query = (
        select(opt_outs.c.client_id, func.count())
        .where(_in(opt_outs.c.updated_at, window), opt_outs.c.opted_out.is_(True))
        .group_by(opt_outs.c.client_id)
    )
    return dict(connection.execute(_only(query, opt_outs.c.client_id, client_ids)).all())


def month_usage(
    connection: Connection, month: str, client_ids: Collection[str] | None = None
) -> dict[str, TokenUse]:
    """The `monthly_usage` ledger of `month`: tokens per client and model."""
    query = select(
        monthly_usage.c.client_id,
        monthly_usage.c.model,
        monthly_usage.c.input_tokens,
        monthly_usage.c.output_tokens,
    ).where(monthly_usage.c.month == month)
    used: dict[str, TokenUse] = defaultdict(TokenUse)
    for client_id, model, inp, out in connection.execute(
        _only(query, monthly_usage.c.client_id, client_ids)
    ):
        used[client_id].by_model[model] = (int(inp), int(out))
    return dict(used)


def last_message_times(connection: Connection, client_ids: Collection[str]) -> dict[str, float]:
    """Each client's newest message time: one indexed MAX per client, in a few statements.

    A GROUP BY over every message would read the whole index; MAX(created_at) for one
    client_id reads one entry of ix_messages_client_time.
    """
    found: dict[str, float] = {}
    ids = sorted(client_ids)
    for start in range(0, len(ids), _UNION_CHUNK):
        parts = [
            select(literal(client_id).label("client_id"), func.max(messages.c.created_at)).where(
                messages.c.client_id == client_id
            )
            for client_id in ids[start : start + _UNION_CHUNK]
        ]
        for client_id, newest in connection.execute(union_all(*parts)):
            if newest is not None:
                found[client_id] = float(newest)
    return found


def counts_since(connection: Connection, since: float) -> Mapping[str, int]:
    """Messages (both directions) per client since `since`."""
    query = (
        select(messages.c.client_id, func.count())
        .where(messages.c.created_at >= since, messages.c.client_id.is_not(None))
        .group_by(messages.c.client_id)
    )
    return dict(connection.execute(query).all())
