"""The plan as GitHub-flavoured Markdown: a pull-request comment or a CI job summary.

The summary line and a table of clients come first; each client's changes sit in a
collapsible <details> block as a `diff` code block, which GitHub colours.
"""

from __future__ import annotations

from horizon.reconcile.apply import ApplyReport
from horizon.reconcile.display import extra_lines, summary_line
from horizon.reconcile.redact import redact
from horizon.reconcile.render_text import SYMBOLS, is_shown, render_change
from horizon.reconcile.resources import Action, Change, Plan

HEADING = "### Horizon plan"


def _counts(changes: list[Change]) -> str:
    parts = []
    for action in (Action.CREATE, Action.UPDATE, Action.DELETE, Action.DETACH, Action.ORPHAN):
        count = sum(1 for change in changes if change.action is action)
        if count:
            parts.append(f"`{SYMBOLS[action]}{count}`")
    blocked = sum(1 for change in changes if change.needs_operator)
    if blocked:
        parts.append(f"`!{blocked}`")
    return " ".join(parts)


def _client_block(client: str, changes: list[Change]) -> list[str]:
    shown = [change for change in changes if is_shown(change)]
    notices = [change for change in changes if change.notice]
    lines = [f"<details><summary><b>{client or '(no client)'}</b> {_counts(shown)}</summary>", ""]
    if shown:
        lines.append("```diff")
        for change in shown:
            lines += [line[2:] if line.startswith("  ") else line for line in render_change(change)]
        lines += ["```", ""]
    for change in notices:
        lines.append(f"> **{change.address}**: {redact(change.notice)}")
        lines.append("")
    lines += ["</details>", ""]
    return lines


def render_markdown(plan: Plan, report: ApplyReport | None = None) -> str:
    """The plan (and, after apply, its outcome) for a pull request or a job summary."""
    lines = [HEADING, "", f"**{summary_line(plan)}**"]
    lines += [f"{line}  " for line in extra_lines(plan)]
    lines.append("")
    for client, changes in plan.by_client().items():
        if any(is_shown(change) or change.notice for change in changes):
            lines += _client_block(client, changes)
    if report is not None:
        lines += _report_section(report)
    return "\n".join(lines).rstrip() + "\n"


def _report_section(report: ApplyReport) -> list[str]:
    lines = [
        "### Apply",
        "",
        f"**{len(report.succeeded)} applied, {len(report.failed)} failed.**",
        "",
    ]
    if report.failed:
        lines += ["| resource | client | error |", "|---|---|---|"]
        for outcome in report.failed:
            change = outcome.change
            error = str(outcome.failure).replace("|", "\\|")
            lines.append(f"| `{change.address}` | {change.client or ''} | {error} |")
        lines.append("")
    return lines
