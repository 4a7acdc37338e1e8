"""`horizon demo`: sandbox, reconcile, webhook and one conversation per client."""

from __future__ import annotations

import signal
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
    try:
        run_demo(
            resolve_clients_dir(clients_dir),
            click.echo,
            timeout=timeout,
            keep_running=until_stopped if keep_running else None,
        )
    except DemoError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("\nStopped; the sandbox and the webhook are shut down.", err=True)
        sys.exit(130)
    if keep_running:
        click.echo("\nStopped; the sandbox and the webhook are shut down.", err=True)


def until_stopped() -> None:
    """Return on Ctrl-C or SIGTERM, whatever this process inherited for them.

    A process started in the background by a non-interactive shell inherits SIGINT
    ignored, and Python then never raises KeyboardInterrupt: the demo would sit out every
    Ctrl-C (as it did under CI). The wait is in short steps so that a signal the kernel
    hands to a server thread is still seen by the main thread soon after.
    """
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in STOP_SIGNALS}
    try:
        while not stop.wait(timeout=0.2):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
