"""`horizon clients`, `horizon stats` and `horizon usage`: the fleet's figures from the store.

Thin: options in, `horizon.queries` out, `horizon.cli.output.emit` prints.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import click

from horizon.cli.config import clients_dir_option, resolve_clients_dir
from horizon.cli.output import CSV, JSON, TABLE, Column, emit, output_option
from horizon.settings import Settings


def _money(value: float | None) -> str:
    if value is None:
        return ""
    # A new client's month is fractions of a cent: show them rather than $0.00.
    return f"${value:,.4f}" if 0 < abs(value) < 1 else f"${value:,.2f}"


def _count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.2f} s"


def _share(value: float | None) -> str:
    if value is None:
        return ""
    return "<1%" if 0 < value < 0.005 else f"{value:.0%}"


def _when(value: float | None) -> str:
    if value is None:
        return "never"
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _over_budget(row: dict) -> str | None:
    used = row.get("budget_used")
    return None if used is None else "bold red" if used >= 1 else "yellow" if used >= 0.8 else None


def _sender_style(row: dict) -> str | None:
    status = row.get("sender_status")
    return None if status in (None, "ONLINE") else "bold red"


@contextmanager
def _context(clients_dir) -> Iterator[tuple]:
    """Settings, the valid clients (errors warned about), the price table and the store."""
    from horizon.config.loader import load_fleet
    from horizon.config.prices import PriceFileError, load_prices
    from horizon.store.opening import StoreUnavailable, open_writable_store

    settings = Settings()
    loaded = load_fleet(resolve_clients_dir(clients_dir))
    if loaded.errors:
        click.echo(
            f"warning: {len(loaded.errors)} client file(s) have errors and are left out "
            "(see `horizon validate`)",
            err=True,
        )
    try:
        prices = load_prices(settings.prices_file)
        store = open_writable_store(settings.database_url)
    except (PriceFileError, StoreUnavailable) as error:
        raise click.ClickException(str(error)) from None
    try:
        yield settings, loaded.fleet, prices, store
    finally:
        store.close()


CLIENT_COLUMNS = [
    Column("client", "client"),
    Column("name", "name"),
    Column("number", "number"),
    Column("channel", "channel"),
    Column("enabled", "enabled", _yes),
    Column("sender_status", "sender", style=_sender_style),
    Column("messages_24h", "24 h", _count, "right"),
    Column("last_message_at", "last message", _when),
    Column("cost_usd", "cost (month)", _money, "right"),
    Column("budget_usd", "budget", _money, "right"),
    Column("budget_used", "used", _share, "right", _over_budget),
]


@click.command()
@click.option("--offline", is_flag=True, help="Skip Twilio's listing of WhatsApp senders.")
@output_option(TABLE, JSON, CSV)
@clients_dir_option
def clients(offline: bool, output: str, clients_dir) -> None:
    """One row per client: config, sender status, 24 h volume, last message, cost to date."""
    from horizon.queries.fleet import client_rows, cost_note

    with _context(clients_dir) as (settings, fleet, prices, store):
        senders = None if offline else _sender_statuses(settings)
        rows = client_rows(store, fleet, prices, time.time(), senders)
    note = cost_note(prices) + " Used: the month's OpenAI spend against monthly_budget_usd."
    document = {"estimate": True, "price_table": prices.name, "note": note, "clients": rows}
    emit(rows, CLIENT_COLUMNS, output, notes=[note], document=document)


def _sender_statuses(settings: Settings) -> dict[str, str]:
    from horizon.ops.senders import sender_statuses
    from horizon.vendors.errors import VendorError

    try:
        return sender_statuses(settings)
    except VendorError as error:
        raise click.ClickException(
            f"cannot list the WhatsApp senders at Twilio: {error} (--offline skips it)"
        ) from None


STATS_COLUMNS = [
    Column("client", "client"),
    Column("inbound", "in", _count, "right"),
    Column("outbound", "out", _count, "right"),
    Column("users", "users", _count, "right"),
    Column("turns", "turns", _count, "right"),
    Column("latency_p50_s", "p50", _seconds, "right"),
    Column("latency_p95_s", "p95", _seconds, "right"),
    Column("latency_p99_s", "p99", _seconds, "right"),
    Column("failed", "failed", _count, "right"),
    Column("fallbacks", "fallbacks", _count, "right"),
    Column("opt_outs", "opt-outs", _count, "right"),
    Column("input_tokens", "tokens in", _count, "right"),
    Column("output_tokens", "tokens out", _count, "right"),
    Column("cost_usd", "cost", _money, "right"),
    Column("budget_used", "budget", _share, "right", _over_budget),
]


@click.command()
@click.option("--client", "client_id", metavar="ID", help="Only this client.")
@click.option("--since", metavar="DURATION", help="The last 30d, 12h, 2w… [default: 30d]")
@click.option("--month", metavar="YYYY-MM", help="A UTC calendar month instead of --since.")
@output_option(TABLE, JSON, CSV)
@clients_dir_option
def stats(client_id: str | None, since: str | None, month: str | None, output: str, clients_dir):
    """Per-client figures: messages, users, turns, reply latency, failures, tokens, cost."""
    from horizon.queries.stats import UnknownClient, client_stats, resolve_clients
    from horizon.queries.window import Window, WindowError

    if since and month:
        raise click.UsageError("give --since or --month, not both")
    try:
        window = Window.month(month) if month else Window.since(since or "30d", time.time())
    except WindowError as error:
        raise click.BadParameter(str(error), param_hint="--month" if month else "--since") from None
    with _context(clients_dir) as (_, fleet, prices, store):
        try:
            only = resolve_clients(store, fleet, client_id)
        except UnknownClient as error:
            raise click.ClickException(str(error)) from None
        report = client_stats(store, fleet, window, prices, only)
    notes = [
        report.note,
        "Latency: from a message's arrival to its reply being sent (nearest rank). "
        f"Budget: {_month_name(report)}'s OpenAI spend against monthly_budget_usd.",
    ]
    title = f"{window.label} ({_day(window.start)} to {_day(window.end)})"
    emit(report.rows, STATS_COLUMNS, output, title=title, notes=notes, document=report.document())


USAGE_COLUMNS = [
    Column("client", "client"),
    Column("name", "name"),
    Column("models", "models"),
    Column("input_tokens", "tokens in", _count, "right"),
    Column("output_tokens", "tokens out", _count, "right"),
    Column("openai_usd", "OpenAI", _money, "right"),
    Column("inbound", "in", _count, "right"),
    Column("outbound", "out", _count, "right"),
    Column("twilio_usd", "Twilio", _money, "right"),
    Column("total_usd", "total", _money, "right"),
    Column("budget_usd", "budget", _money, "right"),
]
# csv: the machine columns an agency's spreadsheet bills from (the month and table included).
USAGE_CSV = [Column("month", "month"), *USAGE_COLUMNS, Column("price_table", "price table")]


@click.command()
@click.option("--month", required=True, metavar="YYYY-MM", help="The UTC calendar month.")
@output_option(TABLE, JSON, CSV)
@clients_dir_option
def usage(month: str, output: str, clients_dir) -> None:
    """The monthly ledger an agency bills from: one row per client."""
    from horizon.queries.stats import usage_ledger
    from horizon.queries.window import WindowError, month_bounds

    try:
        month_bounds(month)
    except WindowError as error:
        raise click.BadParameter(str(error), param_hint="--month") from None
    with _context(clients_dir) as (_, fleet, prices, store):
        report = usage_ledger(store, fleet, month.strip(), prices)
    total = sum(row["total_usd"] for row in report.rows)
    notes = [f"Total: {_money(total)}.", report.note]
    columns = USAGE_CSV if output == CSV else USAGE_COLUMNS
    emit(
        report.rows,
        columns,
        output,
        title=f"Usage {report.window.label}",
        notes=notes,
        document=report.document(),
    )


def _day(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M")


def _month_name(report) -> str:
    return report.rows[0]["budget_month"] if report.rows else report.window.label
