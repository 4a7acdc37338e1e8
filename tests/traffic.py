"""Real traffic for the operations tests: a webhook on a thread, answering through a sandbox.

with serving(sandbox, clients_dir, database_url) as webhook:
    converse(sandbox, webhook, [(ANA, ROMA, "hola"), (LUIS, SOL, "buenas")])
    store = webhook.webhook.store.store
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import case, func, select

from horizon.config.fleet import Fleet
from horizon.config.loader import load_fleet
from horizon.config.prices import DEFAULT_PRICES
from horizon.queries.stats import client_stats
from horizon.queries.window import Window
from horizon.store import Store
from horizon.store.backup_format import TABLES
from horizon.store.schema import messages, monthly_usage, turns
from horizon.webhook.server import RunningWebhook, start_in_thread
from horizon.worker.reply_worker import WorkerOptions

ANA, LUIS, EVA = "+34600000001", "+34600000002", "+34600000003"
ROMA, SOL = "+34910000101", "+34910000102"


@contextmanager
def serving(sandbox, clients_dir: Path, database_url: str) -> Iterator[RunningWebhook]:
    """A webhook on `database_url` that the sandbox's senders deliver to."""
    settings = sandbox.settings(
        HORIZON_CLIENTS_DIR=str(clients_dir), HORIZON_DATABASE_URL=database_url
    )
    running = start_in_thread(settings, options=WorkerOptions(coalesce_window=0.05))
    numbers = [client.number for client in load_fleet(clients_dir).fleet]
    sandbox.add_senders(numbers, f"{running.url}/twilio/inbound")
    try:
        yield running
    finally:
        running.stop()


def answered(store: Store) -> tuple[int, bool]:
    """Inbound messages stored, and whether every one has had its turn finish."""
    inbound = store.find_messages(direction="inbound")
    return len(inbound), all(m["status"] != "queued" for m in inbound)


def converse(sandbox, webhook: RunningWebhook, exchanges, timeout: float = 20.0) -> None:
    """Deliver each (from, to, body) and wait until all are answered, then (for a few
    seconds at most) until every reply is delivered.

    A delivery status Twilio reports before the webhook has recorded the reply is not
    kept, so "delivered" may never come: tests assert nothing about statuses.
    """
    store = webhook.webhook.store.store
    expected = len(store.find_messages(direction="inbound")) + len(exchanges)
    for user, business, body in exchanges:
        sandbox.inbound(user, business, body)
    deadline = time.monotonic() + timeout
    while answered(store) != (expected, True):
        if time.monotonic() > deadline:
            raise AssertionError(f"traffic not answered within {timeout} s: {answered(store)}")
        time.sleep(0.05)
    settled = time.monotonic() + 3.0
    while time.monotonic() < settled:
        statuses = {m["status"] for m in store.find_messages(direction="outbound")}
        if statuses <= {"delivered"}:
            return
        time.sleep(0.05)


def table_rows(store: Store) -> dict[str, list[dict]]:
    """Every backed-up table's rows, in primary-key order."""
    rows = {}
    with store.engine.connect() as connection:
        for table in TABLES:
            query = select(table).order_by(*table.primary_key.columns)
            rows[table.name] = [dict(row) for row in connection.execute(query).mappings()]
    return rows


def stats(store: Store) -> list[dict]:
    """`horizon stats --since 3650d`'s rows: every figure the command shows, per client."""
    window = Window.since("3650d", time.time())
    return client_stats(store, Fleet(), window, DEFAULT_PRICES).rows


def figures(store: Store) -> dict[str, tuple | list]:
    """Per client: inbound, outbound, users, turns, tokens in/out, summed reply latency;
    and under "stats", what `horizon stats` shows."""
    inbound = messages.c.direction == "inbound"
    latency = case((inbound, messages.c.answered_at - messages.c.created_at), else_=0)
    by_messages = (
        select(
            messages.c.client_id,
            func.sum(case((inbound, 1), else_=0)),
            func.sum(case((inbound, 0), else_=1)),
            func.count(func.distinct(messages.c.user_number)),
            func.round(func.coalesce(func.sum(latency), 0) * 1000),
        )
        .group_by(messages.c.client_id)
        .order_by(messages.c.client_id)
    )
    by_turns = select(
        turns.c.client_id,
        func.count(),
        func.sum(turns.c.input_tokens),
        func.sum(turns.c.output_tokens),
    ).group_by(turns.c.client_id)
    usage = select(monthly_usage.c.client_id, func.sum(monthly_usage.c.input_tokens)).group_by(
        monthly_usage.c.client_id
    )
    with store.engine.connect() as connection:
        result = {row[0]: tuple(int(v) for v in row[1:]) for row in connection.execute(by_messages)}
        for client, count, tokens_in, tokens_out in connection.execute(by_turns):
            result[client] += (int(count), int(tokens_in), int(tokens_out))
        for client, tokens_in in connection.execute(usage):
            result[client] += (int(tokens_in),)
    result["stats"] = stats(store)
    return result
