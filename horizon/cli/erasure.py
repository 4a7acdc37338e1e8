"""`horizon forget` and `horizon purge`: erasure of one user, and retention of old text."""

from __future__ import annotations

import time

import click

from horizon.cli.backup import opened_store
from horizon.cli.output import progress
from horizon.settings import MAX_REPLY_DEADLINE, Settings

# A reply may be tried again until HORIZON_REPLY_DEADLINE (24 h at most) after its turn
# began: a shorter cutoff could blank text the webhook is still answering or sending.
MIN_AGE = MAX_REPLY_DEADLINE


@click.command()
@click.argument("number")
@click.option("--client", "client_id", metavar="ID", help="Only this client's data of NUMBER.")
def forget(number: str, client_id: str | None) -> None:
    """Erase NUMBER: its OpenAI conversations, then its messages, turns, queued work,
    conversation mapping and opt-out, for every client (or one, with --client)."""
    from horizon.ops.forget import ForgetError, forget_user, normalise_number
    from horizon.vendors.openai_sdk import openai_client

    try:
        number = normalise_number(number)
    except ForgetError as error:
        raise click.ClickException(str(error)) from None
    openai = openai_client(Settings(), max_retries=0)  # retried by horizon's policy
    failing = "; nothing was deleted from it: run `horizon forget` again"
    try:
        with opened_store(failing=failing) as store:
            report = forget_user(store, openai, number, client_id)
    except ForgetError as error:
        raise click.ClickException(str(error)) from None
    scope = f" (client {client_id})" if client_id else " (every client)"
    click.echo(f"Forgot {report.number}{scope}:")
    for table, count in report.rows.items():
        click.echo(f"  {table}: {count} rows deleted")
    for what, deleted, gone in (
        ("conversations", report.conversations_deleted, report.conversations_gone),
        ("stored responses", report.responses_deleted, report.responses_gone),
    ):
        already = f", {len(gone)} already gone" if gone else ""
        click.echo(f"  OpenAI {what}: {len(deleted)} deleted{already}")
    click.echo(
        "monthly_usage keeps per-client token totals, which name no user: nothing to erase there."
    )


@click.command()
@click.option(
    "--older-than",
    "older_than",
    required=True,
    metavar="AGE",
    help="Blank text older than this, e.g. 180d (at least 1d).",
)
def purge(older_than: str) -> None:
    """Blank message bodies, media and reply text older than AGE, keeping the rows (so
    counts, latencies, tokens and costs stay right)."""
    from horizon.queries.window import WindowError, parse_duration
    from horizon.store.retention import purge_bodies

    try:
        age = parse_duration(older_than)
    except WindowError as error:
        raise click.ClickException(f"--older-than: {error}") from None
    if age < MIN_AGE:
        raise click.ClickException(
            f"--older-than: {older_than!r} is shorter than 1d; replies to more recent "
            "messages may still be on their way (HORIZON_REPLY_DEADLINE is at most 24 h)"
        )
    cutoff = time.time() - age
    failing = "; what was blanked before stays blank: run `horizon purge` again"
    with opened_store(failing=failing) as store, progress(None, "Purging") as bar:
        report = purge_bodies(store, cutoff, bar)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(cutoff))
    click.echo(
        f"Blanked the text of {report.messages} messages and {report.turns} turns "
        f"from before {when}; their rows stay for counts and stats."
    )
