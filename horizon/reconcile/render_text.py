"""The plan and the apply summary as terminal text, after Terraform's conventions.

`+` create, `~` update (with `field: old → new` lines), `-` delete, `.` detach (Terraform's
symbol for a resource it stops managing and keeps), `?` orphaned, `!` needs the operator;
`Plan: N to create, N to update, N to delete.` or `No changes.` at the end. Colour only
when asked (the CLI asks on a terminal).
"""

from __future__ import annotations

import click

from horizon.reconcile.apply import ApplyReport, Outcome
from horizon.reconcile.display import (
    explanation,
    extra_lines,
    field_line,
    field_source,
    printable,
    summary_line,
)
from horizon.reconcile.redact import redact
from horizon.reconcile.resources import Action, Change, Plan

SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.DELETE: "-",
    Action.DETACH: ".",
    Action.ORPHAN: "?",
    Action.CONFLICT: "!",
    Action.MISSING: "!",
    Action.NOOP: " ",
}
COLOURS = {
    "+": "green",
    "~": "yellow",
    "-": "red",
    ".": "magenta",
    "?": "magenta",
    "!": "red",
    "#": "cyan",
}
PAST = {
    Action.CREATE: "created",
    Action.UPDATE: "updated",
    Action.DELETE: "deleted",
    Action.DETACH: "detached",
}


def _paint(symbol: str, text: str, color: bool) -> str:
    return click.style(text, fg=COLOURS.get(symbol)) if color else text


def symbol_of(change: Change) -> str:
    """A change's symbol: its action's, or `!` when nothing is applied and the operator must act."""
    if change.action is Action.NOOP and change.problem:
        return "!"
    return SYMBOLS[change.action]


def is_shown(change: Change) -> bool:
    """Everything but a resource in sync with nothing to report."""
    return change.action is not Action.NOOP or change.problem is not None


def render_change(change: Change, color: bool = False) -> list[str]:
    """One resource's lines: its header, then its fields or the reason it is listed."""
    symbol = symbol_of(change)
    owner = f"  ({change.client})" if change.client else ""
    lines = [_paint(symbol, f"  {symbol} {change.address}{owner}", color)]
    note = explanation(change)
    if note:
        lines.append(_paint("#", f"      # {printable(redact(note))}", color))
    if change.problem:
        lines.append(_paint("!", f"      ! {printable(redact(change.problem))}", color))
    if change.action.applied:
        for field in change.fields:
            source = field_source(change, field.path)
            mark, text = field_line(field.path, field.before, field.after, source)
            lines.append(_paint(mark, f"      {mark} {text}", color))
    return lines


def render_text(plan: Plan, *, color: bool = False) -> str:
    """The whole plan, as `horizon reconcile` prints it."""
    lines: list[str] = []
    shown = [change for change in plan.changes if is_shown(change)]
    if shown:
        lines += ["Horizon will perform the following actions:", ""]
        for change in shown:
            lines += [*render_change(change, color), ""]
    if plan.notices:
        lines += ["Needs attention at the vendor:"]
        for change in plan.notices:
            lines.append(
                _paint("#", f"  # {change.address}: {printable(redact(change.notice))}", color)
            )
        lines.append("")
    lines.append(click.style(summary_line(plan), bold=True) if color else summary_line(plan))
    lines += extra_lines(plan)
    return "\n".join(lines)


def _outcome_line(outcome: Outcome) -> str:
    change = outcome.change
    owner = f" ({change.client})" if change.client else ""
    if outcome.failure is not None:
        return f"  failed   {change.address}{owner}: {printable(str(outcome.failure))}"
    line = f"  {PAST[change.action]:<8} {change.address}{owner}"
    if outcome.applied and outcome.applied.notice:
        line += f"\n           # {printable(redact(outcome.applied.notice))}"
    return line


def render_report_text(report: ApplyReport, *, color: bool = False) -> str:
    """What apply did: every change's outcome, then the count, then what to do next."""
    lines = [_outcome_line(outcome) for outcome in report.outcomes]
    ok, failed = len(report.succeeded), len(report.failed)
    verdict = f"Apply complete: {ok} applied, {failed} failed ({report.seconds:.1f} s)."
    if color:
        verdict = click.style(verdict, fg="red" if failed else "green", bold=True)
    lines += ["", verdict]
    if failed:
        lines.append("Run `horizon reconcile` again to retry what failed.")
    return "\n".join(lines)
