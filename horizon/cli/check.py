"""`horizon check`: the preflight before going live, as a table or JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from horizon.cli.config import clients_dir_option, resolve_clients_dir
from horizon.config.loader import load_fleet
from horizon.settings import Settings

STYLES = {"pass": "green", "fail": "bold red", "warn": "yellow", "skip": "dim"}


@click.command()
@click.option(
    "--live-model",
    is_flag=True,
    help="Also send one tiny Responses request per model and parameters (costs a few tokens).",
)
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@clients_dir_option
def check(live_model: bool, output: str, clients_dir: Path | None) -> None:
    """Check the real accounts before going live: credentials, WhatsApp, models, webhook."""
    from horizon.ops.check import failed, run_checks

    loaded = load_fleet(resolve_clients_dir(clients_dir))
    if not loaded.ok:
        for error in loaded.errors:
            click.echo(str(error), err=True)
        raise click.ClickException("the client files have errors; see `horizon validate`")
    findings = run_checks(Settings(), loaded.fleet, live_model=live_model)
    if output == "json":
        document = {"ok": not failed(findings), "findings": [f.as_json() for f in findings]}
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        _print_table(findings)
    sys.exit(1 if failed(findings) else 0)


def _print_table(findings: list) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False, header_style="bold")
    for column in ("check", "subject", "result", "detail", "what to do"):
        table.add_column(column, overflow="fold")
    for finding in findings:
        result = f"[{STYLES[finding.status]}]{finding.status.upper()}[/]"
        table.add_row(finding.check, finding.subject, result, finding.detail, finding.fix or "")
    console = Console(highlight=False, soft_wrap=False)
    console.print(table)
    failures = sum(1 for finding in findings if finding.status == "fail")
    verdict = (
        f"[bold red]{failures} check(s) failed.[/]"
        if failures
        else "[bold green]Every check passed.[/]"
    )
    console.print(verdict)
