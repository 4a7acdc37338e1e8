"""`horizon serve`: run the webhook under uvicorn."""

from __future__ import annotations

import click

from horizon.settings import MissingSetting, Settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--reload-config",
    is_flag=True,
    help="Re-validate clients/ whenever it changes and swap the routing table if valid "
    "(SIGHUP always does).",
)
def serve(host: str, port: int, reload_config: bool) -> None:
    """Run the WhatsApp webhook: POST /twilio/inbound, /twilio/status, /healthz, /metrics…"""
    from horizon.telemetry.logs import configure_json_logging
    from horizon.webhook.server import InvalidConfig, StartupError
    from horizon.webhook.server import serve as run

    configure_json_logging()
    try:
        settings = Settings()
        # Twilio signs against the public URL: guessing it from the bound address would
        # reject every real request behind a proxy, silently.
        settings.require("public_url", "to check Twilio's signatures (the webhook's public URL)")
        run(settings, host, port, reload_config=reload_config)
    except MissingSetting as error:
        raise click.ClickException(str(error)) from None
    except InvalidConfig as error:
        for problem in error.errors:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{error}; fix them (see `horizon validate`)") from None
    except StartupError as error:
        raise click.ClickException(str(error)) from None
