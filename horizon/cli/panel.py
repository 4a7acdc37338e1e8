"""`horizon panel`: the read-only operator web panel, with drift checks in the background."""

from __future__ import annotations

import secrets
from pathlib import Path

import click

from horizon.cli.config import clients_dir_option, resolve_clients_dir
from horizon.settings import Settings


@click.command()
@clients_dir_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
def panel(clients_dir: Path | None, host: str, port: int) -> None:
    """Run the operator panel: fleet, clients, conversations and system, in a browser."""
    from horizon.ops.drift import DriftChecker
    from horizon.panel.server import PanelStartupError, bind_panel, check_exposure, serve
    from horizon.queries.database import StoreUnavailable, open_existing_store
    from horizon.serving import url_of
    from horizon.telemetry.logs import configure_json_logging

    configure_json_logging()
    settings = Settings()
    directory = resolve_clients_dir(clients_dir)
    try:
        check_exposure(settings, host)
        store = open_existing_store(settings.database_url)
    except (PanelStartupError, StoreUnavailable) as error:
        raise click.ClickException(str(error)) from None
    made_up = not settings.admin_token
    if made_up:  # loopback only (check_exposure): a token for this run, printed once
        settings = settings.model_copy(update={"admin_token": secrets.token_urlsafe(24)})
    try:
        sock = bind_panel(host, port)
    except PanelStartupError as error:
        store.close()
        raise click.ClickException(str(error)) from None
    drift = DriftChecker(settings, directory)
    drift.start()
    click.echo(f"Panel on {url_of(sock)}")
    if made_up:
        click.echo(
            f"HORIZON_ADMIN_TOKEN is not set; log in with this token: {settings.admin_token}"
        )
    else:
        click.echo("Log in with HORIZON_ADMIN_TOKEN.")
    try:
        serve(settings, store, directory, drift, sock)
    finally:
        drift.stop()
        store.close()
