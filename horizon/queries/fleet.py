"""One row per client (`horizon clients`): its configuration, its sender's status, the last
24 hours' volume, its last message and its month-to-date cost against its budget."""

from __future__ import annotations

from collections.abc import Mapping

from horizon.config.fleet import Fleet
from horizon.config.prices import PriceTable
from horizon.queries import figures
from horizon.queries.stats import ESTIMATE_NOTE
from horizon.queries.window import Window, month_bounds, month_of
from horizon.store.store import Store

DAY = 86400.0
NOT_LISTED = "MISSING"  # a WhatsApp client whose sender Twilio does not list


def client_rows(
    store: Store,
    fleet: Fleet,
    prices: PriceTable,
    now: float,
    senders: Mapping[str, str] | None = None,
) -> list[dict]:
    """Rows for every client of the fleet, sorted by id.

    `senders` maps `whatsapp:+E164` to the status Twilio lists for it; None when the
    listing was skipped (`--offline`), and the status column stays empty.
    """
    month = month_of(now)
    start, _ = month_bounds(month)
    month_to_date = Window(start, now + 1e-6, f"{month} to date")
    ids = [client.id for client in fleet]
    with store.engine.connect() as connection:
        recent = figures.counts_since(connection, now - DAY)
        last = figures.last_message_times(connection, ids)
        tokens = figures.month_usage(connection, month)
        counts = figures.message_counts(connection, month_to_date)
    rows = []
    for client in fleet:
        openai_usd = tokens.get(client.id, figures.TokenUse()).cost(prices)
        twilio_usd = counts.get(client.id, figures.MessageCounts()).cost(prices)
        budget = client.limits.monthly_budget_usd
        rows.append(
            {
                "client": client.id,
                "name": client.name,
                "number": client.number,
                "channel": client.channel,
                "enabled": client.enabled,
                "sender_status": _sender_status(client.channel, client.number, senders),
                "messages_24h": recent.get(client.id, 0),
                "last_message_at": last.get(client.id),
                **month_cost(month, openai_usd, twilio_usd, budget),
            }
        )
    return rows


def month_cost(month: str, openai_usd: float, twilio_usd: float, budget: float | None) -> dict:
    """A client's month to date: estimated costs, and the budget share the guard compares
    (the month's OpenAI spend against `monthly_budget_usd`)."""
    return {
        "month": month,
        "openai_usd": round(openai_usd, 6),
        "twilio_usd": round(twilio_usd, 6),
        "cost_usd": round(openai_usd + twilio_usd, 6),
        "budget_usd": budget,
        "budget_used": openai_usd / budget if budget else None,
    }


def _sender_status(channel: str, number: str, senders: Mapping[str, str] | None) -> str | None:
    if senders is None or channel != "whatsapp":
        return None
    return senders.get(f"whatsapp:{number}", NOT_LISTED)


def cost_note(prices: PriceTable) -> str:
    return ESTIMATE_NOTE.format(name=prices.name)
