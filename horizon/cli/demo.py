"""`horizon demo`: sandbox, reconcile, webhook and one conversation per client."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import click

from horizon.cli.config import clients_dir_option, resolve_clients_dir
from horizon.ops.demo import DemoError, DemoWorld, run_demo
from horizon.settings import Settings


@click.command()
@clients_dir_option
@click.option(
    "--keep-running",
    is_flag=True,
    help="Leave the sandbox and webhook up, and start the panel, until Ctrl-C.",
)
@click.option(
    "--timeout",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds to wait for every client's reply.",
)
def demo(clients_dir: Path | None, keep_running: bool, timeout: float) -> None:
    """Run Horizon end to end on this machine, with no credentials."""
    with StopSignals() as signals:
        try:
            run_demo(
                resolve_clients_dir(clients_dir),
                click.echo,
                timeout=timeout,
                keep_running=_with_panel(signals) if keep_running else None,
            )
        except DemoError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo(f"\nStopped; {_STOPPED[keep_running]} shut down.", err=True)
            sys.exit(130)
    if keep_running:
        click.echo(f"\nStopped; {_STOPPED[True]} shut down.", err=True)


_STOPPED = {False: "the sandbox and the webhook are", True: "the sandbox, webhook and panel are"}


def _with_panel(signals: StopSignals) -> Callable[[DemoWorld, Settings], None]:
    """Run the panel over the demo's database until a stop signal comes."""

    def stay(world: DemoWorld, settings: Settings) -> None:
        from horizon.panel.server import run_beside

        with run_beside(settings, Path(settings.clients_dir)) as panel:
            click.echo(f"\nPanel on {panel.url}/  (log in with the token {panel.token})")
            signals.wait()

    return stay


class StopSignals:
    """Ctrl-C and SIGTERM, whatever this process inherited for them.

    A process started in the background by a non-interactive shell inherits SIGINT
    ignored, and Python then never raises KeyboardInterrupt: the demo would sit out every
    Ctrl-C (as it did under CI). So both signals are handled here, from the start: before
    `wait` they interrupt (KeyboardInterrupt), during it they end the wait. The wait is in
    short steps, so a signal the kernel hands to a server thread is seen soon after.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.stopped = threading.Event()
        self.waiting = False
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopSignals:
        self._previous = {sig: signal.signal(sig, self._handle) for sig in self.SIGNALS}
        return self

    def __exit__(self, *exc_info: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: object) -> None:
        self.stopped.set()
        if not self.waiting:
            raise KeyboardInterrupt

    def wait(self) -> None:
        """Say how to stop, then return once a stop signal has come."""
        self.waiting = True
        click.echo("Press Ctrl-C to stop everything.")
        while not self.stopped.wait(timeout=0.2):
            pass
