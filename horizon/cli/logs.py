"""`horizon logs`: the conversations from the store, one line per message, optionally followed."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime

import click

from horizon.cli.output import JSON, TEXT, console, output_option
from horizon.queries.logs import (
    Follower,
    LogEntry,
    LogQuery,
    newest_id,
    recent,
    window,
)
from horizon.settings import Settings

POLL_SECONDS = 0.25  # a new message shows within this (plus one query) of being stored
DEFAULT_LINES = 100
DIRECTION = {"inbound": "in", "outbound": "out"}
DIRECTION_STYLE = {"inbound": "cyan", "outbound": "green"}
STATUS_STYLE = {
    "queued": "yellow",
    "limited": "yellow",
    "ignored": "dim",
    "failed": "bold red",
    "undelivered": "bold red",
    "unrouted": "bold red",
    "canceled": "red",
}


@click.command()
@click.option("--client", "client_id", metavar="ID", help="Only this client's messages.")
@click.option("--user", metavar="NUMBER", help="Only this user's messages (e.g. +34600000001).")
@click.option("--since", metavar="DURATION", help="Messages of the last 15m, 1h, 7d…")
@click.option("--grep", metavar="TEXT", help="Only messages whose text contains TEXT (any case).")
@click.option(
    "--lines",
    "-n",
    type=click.IntRange(min=1),
    help=f"At most the newest N messages (default {DEFAULT_LINES} without --since, "
    "all of the window with it).",
)
@click.option(
    "--follow", "-f", is_flag=True, help="Keep printing new messages as they arrive (Ctrl-C stops)."
)
@output_option(TEXT, JSON)
def logs(
    client_id: str | None,
    user: str | None,
    since: str | None,
    grep: str | None,
    lines: int | None,
    follow: bool,
    output: str,
) -> None:
    """The conversations from the store: time (UTC), client, user, direction, status, latency, text.

    Reads HORIZON_DATABASE_URL, the database the webhook writes. Users are masked to their
    last four digits. `--output json` prints one JSON object per line.
    """
    from horizon.queries.database import StoreUnavailable, open_existing_store
    from horizon.queries.masking import NumberError, normalise_number
    from horizon.queries.window import WindowError, parse_duration

    try:
        query = LogQuery(
            client_id=client_id,
            user_number=normalise_number(user) if user is not None else None,
            since=time.time() - parse_duration(since) if since is not None else None,
            grep=grep or None,
        )
    except WindowError as error:  # one line, not click's usage block
        raise click.ClickException(f"--since: {error}") from None
    except NumberError as error:
        raise click.ClickException(f"--user: {error}") from None
    try:
        store = open_existing_store(Settings().database_url)
    except StoreUnavailable as error:
        raise click.ClickException(str(error)) from None
    printer = LinePrinter(output)
    try:
        start = newest_id(store) if follow else None
        if since is None or lines is not None:
            printer.show(recent(store, query, lines or DEFAULT_LINES, until_id=start))
        else:
            printer.show(window(store, query, until_id=start))
        if follow:
            _follow(Follower(store, query, start or 0), printer)
        elif not printer.count:
            printer.note("No messages.")
    except KeyboardInterrupt:  # Ctrl-C is how following ends: not an error
        pass
    except BrokenPipeError:  # `horizon logs | head`: the reader has what it wanted
        sys.stderr.close()
    finally:
        store.close()


def _follow(follower: Follower, printer: LinePrinter) -> None:
    printer.note("Following new messages; Ctrl-C stops.")
    while True:
        started = time.monotonic()
        printer.show(follower.poll())
        time.sleep(max(0.0, POLL_SECONDS - (time.monotonic() - started)))


def latency_text(seconds: float | None) -> str:
    """'0.84s', '12.3s', '2m05s'; '-' when there is none yet."""
    if seconds is None:
        return "-"
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def time_text(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


class LinePrinter:
    """Prints entries as they come: coloured columns on a terminal, plain text when piped,
    or JSON lines; flushed after each batch so a follower's reader sees them at once."""

    def __init__(self, output: str) -> None:
        self.output = output
        self.console = console()
        self.terminal = self.console.is_terminal
        self.count = 0
        self._client_width = 13

    def show(self, entries: Iterable[LogEntry]) -> None:
        for entry in entries:
            if self.output == JSON:
                sys.stdout.write(json.dumps(entry.as_json(), ensure_ascii=False) + "\n")
            elif self.terminal:
                self.console.print(self._styled(entry), soft_wrap=True)
            else:
                sys.stdout.write(" ".join(self._cells(entry)) + "\n")
            self.count += 1
        sys.stdout.flush()

    def note(self, text: str) -> None:
        """A remark for the person at the terminal; nothing when piped or for JSON."""
        if self.terminal and self.output != JSON:
            self.console.print(text, style="dim", highlight=False)

    def _cells(self, entry: LogEntry) -> list[str]:
        client = entry.client_id or "(unrouted)"
        self._client_width = max(self._client_width, len(client))
        return [
            time_text(entry.time),
            client.ljust(self._client_width),
            entry.user.ljust(12),
            DIRECTION.get(entry.direction, entry.direction).ljust(3),
            entry.status.ljust(11),
            latency_text(entry.latency).rjust(6),
            entry.text.replace("\r\n", "\n").replace("\n", " ↵ "),
        ]

    def _styled(self, entry: LogEntry):
        from rich.text import Text

        cells = self._cells(entry)
        styles = [
            "dim",
            "bold",
            "",
            DIRECTION_STYLE.get(entry.direction, ""),
            STATUS_STYLE.get(entry.status, ""),
            "dim",
            "",
        ]
        line = Text()
        for index, (cell, style) in enumerate(zip(cells, styles, strict=True)):
            line.append(cell if index == 0 else " " + cell, style=style)
        return line
