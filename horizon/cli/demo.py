"""`horizon demo`: sandbox, reconcile, webhook and one conversation per client."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import click

from horizon.cli.config import clients_dir_option, resolve_clients_dir
from horizon.ops.demo import DemoError, run_demo


@click.command()
@clients_dir_option
@click.option("--keep-running", is_flag=True, help="Leave the sandbox and webhook up until Ctrl-C.")
@click.option(
    "--timeout",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds to wait for every client's reply.",
)
def demo(clients_dir: Path | None, keep_running: bool, timeout: float) -> None:
    """Run Horizon end to end on this machine, with no credentials."""
    stay_up = threading.Event() if keep_running else None
    try:
        run_demo(
            resolve_clients_dir(clients_dir), click.echo, timeout=timeout, keep_running=stay_up
        )
    except DemoError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("\nStopped; the sandbox and the webhook are shut down.", err=True)
        sys.exit(0 if keep_running else 130)
