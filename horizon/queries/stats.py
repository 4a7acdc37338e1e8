"""Per-client figures over a window (`horizon stats`) and the monthly ledger (`horizon usage`).

Rows are plain dicts with machine values (counts, seconds, USD); the command formats them.
Costs are estimates from a `PriceTable`, and every document names it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import exists, or_, select

from horizon.config.fleet import Fleet
from horizon.config.prices import PriceTable
from horizon.queries import figures
from horizon.queries.window import Window, month_of
from horizon.store.schema import messages, monthly_usage, turns
from horizon.store.store import Store

ESTIMATE_NOTE = (
    "Costs are estimates from the price table {name!r}: OpenAI by tokens and model, Twilio "
    "per message (carrier fees, segments and cached-input discounts are not counted)."
)


class UnknownClient(LookupError):
    """`--client` names no client of the fleet and none the store has figures of."""

    def __init__(self, client_id: str) -> None:
        super().__init__(
            f"no client {client_id!r}: it has no file in the clients directory and no "
            "messages in the store"
        )


@dataclass(frozen=True)
class Report:
    """Rows, the window they cover and the price table their costs come from."""

    rows: list[dict]
    window: Window
    prices: PriceTable

    @property
    def note(self) -> str:
        return ESTIMATE_NOTE.format(name=self.prices.name)

    def document(self) -> dict:
        return {
            "window": self.window.as_json(),
            "estimate": True,
            "price_table": self.prices.name,
            "note": self.note,
            "clients": self.rows,
        }


def resolve_clients(store: Store, fleet: Fleet, client_id: str | None) -> list[str] | None:
    """[client_id] if the fleet or the store knows it (None for every client); else raise."""
    if client_id is None:
        return None
    if client_id in fleet.by_id:
        return [client_id]
    known = select(
        or_(
            exists().where(messages.c.client_id == client_id),
            exists().where(turns.c.client_id == client_id),
            exists().where(monthly_usage.c.client_id == client_id),
        )
    )
    with store.engine.connect() as connection:
        if connection.execute(known).scalar():
            return [client_id]
    raise UnknownClient(client_id)


def client_stats(
    store: Store,
    fleet: Fleet,
    window: Window,
    prices: PriceTable,
    client_ids: Collection[str] | None = None,
) -> Report:
    """One row per client: volume, users, turns, latency, failures, tokens, cost, budget.

    Budget use is the guard's own figure: the estimated OpenAI spend of the UTC month the
    window ends in (`monthly_usage`), against `limits.monthly_budget_usd`.
    """
    budget_month = month_of(window.end - 1)
    # The latency ranks sort a window's messages; the other aggregates scan the same index.
    # On two connections the database does both at once (SQLite and psycopg release the
    # GIL while they work): a month of a big fleet in about half the time.
    with ThreadPoolExecutor(max_workers=1) as aside:
        ranked = aside.submit(_on, store, figures.reply_latencies, window, client_ids)
        with store.engine.connect() as connection:
            counts = figures.message_counts(connection, window, client_ids)
            users = figures.unique_users(connection, window, client_ids)
            used = figures.turn_use(connection, window, client_ids)
            opted_out = figures.opt_out_counts(connection, window, client_ids)
            month = figures.month_usage(connection, budget_month, client_ids)
        latencies = ranked.result()
    ids = _ids(fleet, client_ids, counts, used)
    rows = []
    for client_id in ids:
        count = counts.get(client_id, figures.MessageCounts())
        use = used.get(client_id, figures.TokenUse())
        latency = latencies.get(client_id, {})
        client = fleet.by_id.get(client_id)
        openai_usd, twilio_usd = use.cost(prices), count.cost(prices)
        budget = client.limits.monthly_budget_usd if client else None
        spent = month.get(client_id, figures.TokenUse()).cost(prices)
        rows.append(
            {
                "client": client_id,
                "name": client.name if client else None,
                "inbound": count.inbound,
                "outbound": count.outbound,
                "users": users.get(client_id, 0),
                "turns": sum(use.kinds.values()),
                "turns_by_kind": dict(sorted(use.kinds.items())),
                "latency_p50_s": latency.get(50),
                "latency_p95_s": latency.get(95),
                "latency_p99_s": latency.get(99),
                "failed": count.failed_inbound + count.failed_outbound,
                "fallbacks": use.kinds.get("fallback", 0),
                "opt_outs": opted_out.get(client_id, 0),
                "input_tokens": use.input_tokens,
                "output_tokens": use.output_tokens,
                "openai_usd": round(openai_usd, 6),
                "twilio_usd": round(twilio_usd, 6),
                "cost_usd": round(openai_usd + twilio_usd, 6),
                "budget_month": budget_month,
                "budget_usd": budget,
                "budget_used": (spent / budget) if budget else None,
            }
        )
    return Report(rows, window, prices)


def usage_ledger(store: Store, fleet: Fleet, month: str, prices: PriceTable) -> Report:
    """The month's bill, one row per client: tokens per the `monthly_usage` ledger (which
    `horizon forget` leaves alone), messages per the store, and their estimated cost."""
    window = Window.month(month)
    with store.engine.connect() as connection:
        tokens = figures.month_usage(connection, window.label)
        counts = figures.message_counts(connection, window)
    rows = []
    for client_id in _ids(fleet, None, counts, tokens):
        use = tokens.get(client_id, figures.TokenUse())
        count = counts.get(client_id, figures.MessageCounts())
        client = fleet.by_id.get(client_id)
        openai_usd, twilio_usd = use.cost(prices), count.cost(prices)
        rows.append(
            {
                "month": window.label,
                "client": client_id,
                "name": client.name if client else None,
                "models": " ".join(sorted(model or "unknown" for model in use.by_model)),
                "input_tokens": use.input_tokens,
                "output_tokens": use.output_tokens,
                "openai_usd": round(openai_usd, 6),
                "inbound": count.inbound,
                "outbound": count.outbound,
                "twilio_usd": round(twilio_usd, 6),
                "total_usd": round(openai_usd + twilio_usd, 6),
                "budget_usd": client.limits.monthly_budget_usd if client else None,
                "price_table": prices.name,
            }
        )
    return Report(rows, window, prices)


def _on(store: Store, query: Callable, *args: object):
    """`query(connection, *args)` on a connection of its own."""
    with store.engine.connect() as connection:
        return query(connection, *args)


def _ids(fleet: Fleet, only: Collection[str] | None, *found: dict) -> list[str]:
    """The fleet's clients and any other client the store has figures of, sorted."""
    if only is not None:
        return sorted(only)
    ids = set(fleet.by_id)
    for rows in found:
        ids.update(rows)
    return sorted(ids)
