"""`horizon reconcile` and `horizon adopt`: thin commands over horizon.reconcile."""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import click

from horizon.cli.config import clients_dir_option, resolve_clients_dir
from horizon.cli.output import Progress, progress
from horizon.config.fleet import Fleet
from horizon.config.loader import load_fleet
from horizon.reconcile.apply import DEFAULT_PARALLELISM, ApplyReport, Outcome, apply_plan
from horizon.reconcile.provider import Provider
from horizon.reconcile.redact import redact
from horizon.reconcile.resources import Plan
from horizon.settings import MissingSetting, Settings
from horizon.vendors.errors import VendorError

EXIT_CHANGES = 2


@dataclass
class Session:
    """What every reconcile command needs: the fleet, settings and providers."""

    fleet: Fleet
    settings: Settings
    providers: list[Provider]

    @property
    def secrets(self) -> tuple[str, ...]:
        settings = self.settings
        values = (settings.twilio_auth_token, settings.twilio_api_secret, settings.openai_api_key)
        return tuple(value for value in values if value)


def fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def open_session(clients_dir: Path | None) -> Session:
    """Load and validate the fleet (all or nothing) and build the providers."""
    from horizon.providers import build_providers

    result = load_fleet(resolve_clients_dir(clients_dir))
    if not result.ok:
        for error in result.errors:
            click.echo(str(error), err=True)
        fail("the client files have errors; fix them before reconciling (see `horizon validate`)")
    settings = Settings()
    try:
        # What apply waits for goes to stderr, out of the way of --output json or markdown.
        providers = build_providers(settings, progress=lambda line: click.echo(line, err=True))
    except MissingSetting as error:
        fail(str(error))
    return Session(result.fleet, settings, providers)


def warn_unknown(session: Session, clients: tuple[str, ...]) -> None:
    for client_id in clients:
        if client_id not in session.fleet.by_id:
            click.echo(
                f"Warning: no client file for {client_id!r}; only resources marked for it "
                "are planned",
                err=True,
            )


def deleted_kinds(prune: bool, delete_senders: bool) -> tuple[str, ...]:
    """The kinds --prune deletes rather than detaches; --delete-senders alone is refused."""
    if delete_senders and not prune:
        fail("--delete-senders deletes pruned senders, so it needs --prune")
    from horizon.providers.twilio_senders import KIND as SENDER

    return (SENDER,) if delete_senders else ()


def make_plan(
    session: Session, clients: tuple[str, ...], prune: bool, deleting: tuple[str, ...]
) -> Plan:
    from horizon.reconcile.plan import plan_fleet

    warn_unknown(session, clients)
    try:
        return plan_fleet(
            session.fleet,
            session.providers,
            prune=prune,
            deleting=deleting,
            clients=clients or None,
        )
    except VendorError as error:
        fail(f"could not read the live resources: {redact(str(error), session.secrets)}")


def dry_run_exit_code(plan: Plan, detailed: bool) -> int:
    """1 when anything needs the operator; with --detailed-exitcode, 2 when out of sync."""
    if plan.problems:
        return 1
    return EXIT_CHANGES if detailed and not plan.in_sync else 0


def render(plan: Plan, output: str, report: ApplyReport | None = None) -> str:
    if output == "json":
        from horizon.reconcile.render_json import render_json

        return render_json(plan, report)
    if output == "markdown":
        from horizon.reconcile.render_markdown import render_markdown

        return render_markdown(plan, report)
    from horizon.reconcile.render_text import render_report_text, render_text

    color = sys.stdout.isatty()
    if report is None:
        return render_text(plan, color=color)
    return render_report_text(report, color=color)


class ApplyProgress:
    """A progress bar (on a terminal) from the confirmed plan to its last outcome; it is
    gone before the report is printed."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._bar: Progress | None = None

    def start(self, plan: Plan) -> None:
        self._bar = self._stack.enter_context(progress(len(plan.to_apply), "Applying"))

    def advance(self, _outcome: Outcome) -> None:
        if self._bar is not None:
            self._bar.advance()

    def __enter__(self) -> ApplyProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()


def confirm(question: str, yes: bool) -> None:
    """Go on with --yes; ask on a terminal; refuse without one."""
    if yes:
        return
    if not sys.stdin.isatty():
        fail("not on a terminal, so nothing can be confirmed: add --yes to apply")
    if not click.confirm(question, default=False, err=True):
        click.echo("Apply cancelled.", err=True)
        sys.exit(1)


@click.command()
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("-y", "--yes", is_flag=True, help="Apply without asking.")
@click.option("--client", "clients", multiple=True, metavar="ID", help="Limit to this client.")
@click.option(
    "--prune",
    is_flag=True,
    help="Also let go of managed resources no client asks for: detach WhatsApp senders and "
    "SMS numbers (webhooks and mark cleared, kept at Twilio), delete knowledge stores.",
)
@click.option(
    "--delete-senders",
    is_flag=True,
    help="With --prune: delete pruned WhatsApp senders instead of detaching them (the number "
    "leaves WhatsApp; coming back takes a new verification and display-name review).",
)
@click.option(
    "--output",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="With --dry-run: exit 0 when in sync, 2 when changes are pending, 1 on error or "
    "when anything needs you (marked !).",
)
@click.option(
    "--parallelism", type=click.IntRange(1, 64), default=DEFAULT_PARALLELISM, show_default=True
)
@clients_dir_option
def reconcile(
    dry_run: bool,
    yes: bool,
    clients: tuple[str, ...],
    prune: bool,
    delete_senders: bool,
    output: str,
    detailed_exitcode: bool,
    parallelism: int,
    clients_dir: Path | None,
) -> None:
    """Plan Twilio and OpenAI against clients/, then apply the plan."""
    deleting = deleted_kinds(prune, delete_senders)
    session = open_session(clients_dir)
    if dry_run:
        plan = make_plan(session, clients, prune, deleting)
        click.echo(render(plan, output))
        sys.exit(dry_run_exit_code(plan, detailed_exitcode))
    from horizon.providers import account_identity
    from horizon.reconcile import reconcile as run
    from horizon.reconcile.lock import LockError

    warn_unknown(session, clients)

    def show(plan: Plan) -> None:
        if output == "text" or not plan.to_apply:
            click.echo(render(plan, output))

    bar = ApplyProgress()

    def ask(plan: Plan) -> bool:
        if output != "text" and not yes:
            click.echo(render(plan, "text"), err=True)  # something to read before answering
        confirm("Apply these changes?", yes)
        click.echo(f"Applying {len(plan.to_apply)} changes, {parallelism} at a time…", err=True)
        bar.start(plan)
        return True

    try:
        with bar:
            result = run(
                session.fleet,
                session.providers,
                clients=clients or None,
                prune=prune,
                deleting=deleting,
                parallelism=parallelism,
                secrets=session.secrets,
                account=account_identity(session.settings),
                database_url=session.settings.database_url,
                on_plan=show,
                confirm=ask,
                on_outcome=bar.advance,
            )
    except LockError as error:
        fail(str(error))
    except VendorError as error:
        fail(f"could not read the live resources: {redact(str(error), session.secrets)}")
    if result.report is not None:
        click.echo(render(result.plan, output, result.report))
    sys.exit(0 if result.ok else 1)


@click.command()
@click.argument("client_id", metavar="ID")
@click.option("-y", "--yes", is_flag=True, help="Write the mark without asking.")
@clients_dir_option
def adopt(client_id: str, yes: bool, clients_dir: Path | None) -> None:
    """Write Horizon's ownership mark on the existing sender or number of client ID."""
    from horizon.reconcile.adopt import plan_adoption
    from horizon.reconcile.render_text import render_change, render_report_text

    session = open_session(clients_dir)
    try:
        adoption = plan_adoption(session.fleet, client_id, session.providers)
    except VendorError as error:
        fail(f"could not read the live resources: {redact(str(error), session.secrets)}")
    if adoption.problem:
        fail(adoption.problem)
    click.echo("Horizon will write its ownership mark, and change nothing else:\n")
    for change in adoption.changes:
        click.echo("\n".join(render_change(change)) + "\n")
    if adoption.afterwards:
        click.echo("Then `horizon reconcile` will make these changes:\n")
        for change in adoption.afterwards:
            click.echo("\n".join(render_change(change)) + "\n")
    confirm("Adopt?", yes)
    report = apply_plan(adoption.plan, session.providers, secrets=session.secrets)
    click.echo(render_report_text(report))
    sys.exit(0 if report.ok else 1)
