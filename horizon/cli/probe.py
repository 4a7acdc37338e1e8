"""`horizon test`: a signed inbound message to a running webhook, and the reply it gets."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from horizon.cli.config import clients_dir_option, resolve_clients_dir
from horizon.settings import Settings

# Twilio's error for a WhatsApp reply outside the 24-hour customer service window.
OUTSIDE_WINDOW = "63016"


@click.command(name="test")
@click.argument("client_id", metavar="CLIENT")
@click.argument("message")
@click.option(
    "--from",
    "from_number",
    metavar="NUMBER",
    help="The user's number (default +15555550100, a fictional one: nobody receives the reply; "
    "give your own WhatsApp number to get it on your phone).",
)
@click.option(
    "--url",
    "base_url",
    metavar="BASE",
    help="The webhook's base URL (default HORIZON_PUBLIC_URL); the message goes to "
    "BASE/twilio/inbound.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    help="Seconds to wait for the reply.",
)
@clients_dir_option
def test(
    client_id: str,
    message: str,
    from_number: str | None,
    base_url: str | None,
    timeout: float,
    clients_dir: Path | None,
) -> None:
    """Send MESSAGE to CLIENT's webhook as Twilio would (signed), then print the reply.

    Reads the reply from HORIZON_DATABASE_URL: run it with the webhook's database. Exits 1
    on a timeout, a refused request, an unknown client or a reply that is not the
    assistant's (a fallback, a limit notice, none).
    """
    from horizon.config.loader import load_fleet
    from horizon.ops.probe import ProbeError, Target, await_reply, find_client, send_probe
    from horizon.queries.database import StoreUnavailable, open_existing_store

    settings = Settings()
    user = _user(from_number)
    try:
        client = find_client(load_fleet(resolve_clients_dir(clients_dir)), client_id)
        target = Target.from_settings(settings, base_url)
        store = open_existing_store(settings.database_url)
    except (ProbeError, StoreUnavailable) as error:
        raise click.ClickException(str(error)) from None
    try:
        sid, sent_at = send_probe(target, client, user, message)
        click.echo(f"Sent {sid} to {client.id} ({client.number}) from {user}: {message}")
        result = await_reply(store, sid, timeout, sent_at)
    except ProbeError as error:
        raise click.ClickException(str(error)) from None
    finally:
        store.close()
    _print(result)
    if not result.ok:
        click.echo(f"Error: {result.problem}", err=True)
        sys.exit(1)


def _user(from_number: str | None) -> str:
    from horizon.ops.probe import TEST_NUMBER
    from horizon.queries.masking import NumberError, normalise_number

    try:
        return normalise_number(from_number) if from_number else TEST_NUMBER
    except NumberError as error:
        raise click.ClickException(f"--from: {error}") from None


def _print(result) -> None:
    count = len(result.parts)
    noun = "part" if count == 1 else "parts"
    click.echo(
        f"Reply ({result.kind or result.status}, {count} {noun}) after {result.latency:.2f} s "
        f"(stored → sent; {result.round_trip:.2f} s round trip):"
    )
    for part in result.parts:
        status = f"{part.status} {part.error}" if part.error else part.status
        click.echo(f"  [{status}] {part.body}")
    if any(part.error == OUTSIDE_WINDOW for part in result.parts):
        click.echo(
            f"Twilio could not deliver it ({OUTSIDE_WINDOW}): the number has not written to "
            "this WhatsApp sender in the last 24 hours, as with the default test number. To "
            "receive replies, write to the bot from your phone, then pass --from YOUR_NUMBER."
        )
