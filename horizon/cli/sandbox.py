"""`horizon sandbox`: run the local Twilio + OpenAI emulator in the foreground."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import click

from horizon.sandbox import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    SANDBOX_ACCOUNT_SID,
    SANDBOX_AUTH_TOKEN,
    SANDBOX_OPENAI_KEY,
)
from horizon.sandbox.options import SandboxOptions
from horizon.sandbox.server import bind, run, sandbox_env, url_of
from horizon.sandbox.twilio_api import E164

ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")


def _check_numbers(ctx: click.Context, param: click.Parameter, numbers: tuple[str, ...]):
    for number in numbers:
        if not E164.match(number):
            raise click.BadParameter(f"{number!r} is not an E.164 number like +14155550100")
    return numbers


def _check_account_sid(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not ACCOUNT_SID.match(value):
        raise click.BadParameter("an account SID is 'AC' followed by 32 hexadecimal digits")
    return value


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Interface to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
    help="Port to listen on; 0 picks a free one.",
)  # fmt: skip
@click.option(
    "--state", "state_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="SQLite file keeping the world across restarts and commands [default: in memory].",
)  # fmt: skip
@click.option(
    "--latency-ms", type=click.FloatRange(min=0), default=0.0, help="Added to every API call."
)
@click.option(
    "--fail-rate", type=click.FloatRange(0, 1), default=0.0,
    help="Share of API calls failed with --fail-status.",
)  # fmt: skip
@click.option(
    "--fail-status", type=click.Choice(["429", "500", "503"]), default="500", show_default=True,
    help="HTTP status of injected failures.",
)  # fmt: skip
@click.option(
    "--sender-online-after", type=click.FloatRange(min=0), default=1.0, show_default=True,
    help="Seconds a new WhatsApp sender reports CREATING before ONLINE.",
)  # fmt: skip
@click.option(
    "--file-processing-seconds", type=click.FloatRange(min=0), show_default=True,
    default=SandboxOptions.file_processing_seconds,
    help="Seconds a file attached to a vector store reports in_progress before it is indexed.",
)  # fmt: skip
@click.option(
    "--account-sid", default=SANDBOX_ACCOUNT_SID, show_default=True, callback=_check_account_sid
)
@click.option("--auth-token", default=SANDBOX_AUTH_TOKEN, show_default=True)
@click.option("--openai-key", default=SANDBOX_OPENAI_KEY, show_default=True)
@click.option(
    "--numbers", multiple=True, callback=_check_numbers, metavar="E164",
    help="Seed an IncomingPhoneNumber (repeatable); numbers cannot be bought here.",
)  # fmt: skip
def sandbox(
    host: str,
    port: int,
    state_path: Path | None,
    latency_ms: float,
    fail_rate: float,
    fail_status: str,
    sender_online_after: float,
    file_processing_seconds: float,
    account_sid: str,
    auth_token: str,
    openai_key: str,
    numbers: tuple[str, ...],
) -> None:
    """Run the local Twilio + OpenAI emulator that the real SDKs talk to."""
    if state_path is not None and not state_path.parent.is_dir():
        raise click.ClickException(f"the directory of {state_path} does not exist")
    options = SandboxOptions(
        account_sid=account_sid,
        auth_token=auth_token,
        openai_key=openai_key,
        state_path=str(state_path) if state_path else None,
        numbers=numbers,
        latency_ms=latency_ms,
        fail_rate=fail_rate,
        fail_status=int(fail_status),
        sender_online_after=sender_online_after,
        file_processing_seconds=file_processing_seconds,
    )
    try:
        sock = bind(host, port)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error.strerror}") from error
    url = url_of(sock)
    click.echo(f"Horizon sandbox on {url} (state: {state_path or 'in memory'})")
    click.echo("Point Horizon at it:")
    for name, value in sandbox_env(url, options).items():
        click.echo(f"  export {name}={value}")
    try:
        run(options, sock, on_started=lambda: click.echo("Press Ctrl-C to stop."))
    except KeyboardInterrupt:
        pass
    except sqlite3.DatabaseError as error:
        raise click.ClickException(f"cannot use the state file {state_path}: {error}") from error
    click.echo("Sandbox stopped.")
