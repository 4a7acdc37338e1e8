"""The `horizon` command: a Click group whose commands are imported only when run.

Lazy loading keeps `horizon validate` from importing the vendor SDKs, so it starts fast.
"""

from __future__ import annotations

import contextlib
import faulthandler
import importlib
import signal
import sys

import click

from horizon import __version__
from horizon.settings import SettingError

# command name -> "module:attribute"; each module is a thin layer over horizon.<area>.
COMMANDS: dict[str, str] = {
    "validate": "horizon.cli.config:validate",
    "schema": "horizon.cli.config:schema",
    "new": "horizon.cli.config:new",
    "serve": "horizon.cli.serve:serve",
    "sandbox": "horizon.cli.sandbox:sandbox",
    "reconcile": "horizon.cli.reconcile:reconcile",
    "adopt": "horizon.cli.reconcile:adopt",
    "demo": "horizon.cli.demo:demo",
    "check": "horizon.cli.check:check",
    "logs": "horizon.cli.logs:logs",
    "test": "horizon.cli.probe:test",
    "clients": "horizon.cli.stats:clients",
    "stats": "horizon.cli.stats:stats",
    "usage": "horizon.cli.stats:usage",
    "panel": "horizon.cli.panel:panel",
}


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except SettingError as error:  # from any command: one line naming the variable
            raise click.ClickException(str(error)) from None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="horizon")
def main() -> None:
    """Run a fleet of WhatsApp AI assistants as code."""
    # `kill -USR1 <pid>` prints every thread's stack to stderr: how to see where a process
    # that will not stop is stuck, without stopping it.
    if hasattr(signal, "SIGUSR1") and sys.__stderr__ is not None:
        with contextlib.suppress(OSError, ValueError):  # stderr without a file descriptor
            faulthandler.register(signal.SIGUSR1, file=sys.__stderr__, all_threads=True)
