"""How every operations command prints: a table on a terminal, JSON or CSV for programs.

    columns = [Column("client", "client"), Column("cost_usd", "cost", money)]
    emit(rows, columns, output, title="November 2026", notes=["Costs are estimates …"])

- `table`: colour and a boxed table when stdout is a terminal; plain aligned columns with
  no colour and no box when piped (rich decides the terminal; `NO_COLOR` is honoured).
- `json`: the rows as a JSON array of objects with machine values (numbers stay numbers),
  or a document when `document=` is given.
- `csv`: a header row of column keys, then the machine values.

`progress(total, description)` is the one progress bar: drawn on a terminal, silent in CI
(`CI` set) and when stderr is piped.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click

TABLE, JSON, CSV, TEXT = "table", "json", "csv", "text"


def output_option(*choices: str, default: str | None = None) -> Callable:
    """`--output` with `choices` (the first is the default unless `default` says)."""
    return click.option(
        "--output",
        "-o",
        type=click.Choice(list(choices)),
        default=default or choices[0],
        show_default=True,
        help="table on a terminal; json or csv for programs",
    )


def plain(value: Any) -> str:
    """A value as a table cell: empty for None, the text otherwise."""
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Column:
    """One column: the row's `key`, its `header` on a table, and how a cell is shown."""

    key: str
    header: str
    show: Callable[[Any], str] = plain
    justify: str = "left"  # "right" for figures
    style: Callable[[dict], str | None] | None = None  # rich style from the whole row


def console(stderr: bool = False):
    """A rich console for stdout (or stderr); colour only on a terminal."""
    from rich.console import Console

    out = Console(stderr=stderr, highlight=False, soft_wrap=False)
    if not out.is_terminal:
        # Piped, rich would fold a wide table into 80 columns: keep one row a line.
        out.width = 1000
    return out


def emit(
    rows: Sequence[dict],
    columns: Sequence[Column],
    output: str,
    *,
    title: str | None = None,
    notes: Sequence[str] = (),
    document: dict | None = None,
) -> None:
    """Print `rows` as `output` (table, json or csv); `notes` follow a table, on stderr
    for csv, and go into `document` (when given) for json."""
    if output == JSON:
        body: Any = rows if document is None else document
        click.echo(json.dumps(body, ensure_ascii=False, indent=2, default=str))
        return
    if output == CSV:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([column.key for column in columns])
        for row in rows:
            writer.writerow(["" if row.get(c.key) is None else row.get(c.key) for c in columns])
        for note in notes:
            click.echo(note, err=True)
        return
    print_table(rows, columns, title=title, notes=notes)


def print_table(
    rows: Sequence[dict],
    columns: Sequence[Column],
    *,
    title: str | None = None,
    notes: Sequence[str] = (),
) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    out = console()
    terminal = out.is_terminal
    table = Table(
        title=title,
        box=box.SIMPLE_HEAD if terminal else None,
        header_style="bold" if terminal else "",
        title_justify="left",
        pad_edge=False,
    )
    for column in columns:
        table.add_column(column.header, justify=column.justify, overflow="fold")
    for row in rows:
        cells = []
        for column in columns:
            cell_style = column.style(row) if column.style and terminal else None
            cells.append(Text(column.show(row.get(column.key)), style=cell_style or ""))
        table.add_row(*cells)
    out.print(table)
    for note in notes:
        out.print(Text(note, style="dim" if terminal else ""))


class Progress:
    """What `progress()` yields: `advance(n)` moves the bar; `total` can be set late."""

    def __init__(self, bar: Any | None, task: Any | None) -> None:
        self._bar, self._task = bar, task

    def advance(self, amount: float = 1) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, amount)

    def set_total(self, total: float | None) -> None:
        if self._bar is not None:
            self._bar.update(self._task, total=total)


def progress_enabled() -> bool:
    """A bar is drawn only for a person: stderr is a terminal and this is not CI."""
    return sys.stderr.isatty() and not os.environ.get("CI")


@contextmanager
def progress(total: float | None, description: str) -> Iterator[Progress]:
    """A progress bar on stderr for long work; does nothing when not drawn."""
    if not progress_enabled():
        yield Progress(None, None)
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as RichProgress

    bar = RichProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console(stderr=True),
        transient=True,
    )
    with bar:
        yield Progress(bar, bar.add_task(description, total=total))
