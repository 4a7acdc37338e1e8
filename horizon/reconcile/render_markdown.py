"""The plan as GitHub-flavoured Markdown: a pull-request comment or a CI job summary.

The summary line and a table of clients come first; each client's changes sit in a
collapsible <details> block as a `diff` code block, which GitHub colours.

Every string that comes from a vendor or a client file (names, keys, notices, errors) is
escaped for where it lands, so it renders as the text it is: control characters are shown
as escapes (a newline cannot end the block), HTML is escaped in the <summary>, every ASCII
punctuation character is backslash-escaped in Markdown text (CommonMark allows it for all
of them), code fences are longer than any run of backticks inside, and a word joiner after
`@` or `#` keeps GitHub from turning a name into a mention or a cross-reference.
"""

from __future__ import annotations

import html
import re

from horizon.reconcile.apply import ApplyReport
from horizon.reconcile.display import extra_lines, summary_line
from horizon.reconcile.redact import redact
from horizon.reconcile.render_text import SYMBOLS, is_shown, render_change
from horizon.reconcile.resources import Action, Change, Plan

HEADING = "### Horizon plan"

# Control characters, line separators and the bidirectional overrides that make a text
# read otherwise than it is.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]")
_SHOWN_AS = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_REFERENCE = re.compile(r"([@#])(?=\w)")  # @user mentions, #123 cross-references
WORD_JOINER = "\u2060"


def _visible(text: str) -> str:
    """`text` on one line: control characters shown as escapes (`\\n`, `\\x1b`)."""
    return _CONTROL.sub(lambda m: _SHOWN_AS.get(m[0], _escape(m[0])), text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def _unlinked(text: str) -> str:
    return _REFERENCE.sub(lambda m: m[1] + WORD_JOINER, text)


def markdown_text(text: str) -> str:
    """`text` as Markdown that renders as exactly that text, on one line."""
    return _unlinked(_PUNCTUATION.sub(r"\\\1", _visible(text)))


def html_text(text: str) -> str:
    """`text` inside an HTML block (where Markdown is not read), on one line."""
    return _unlinked(html.escape(_visible(text)))


def code_block(lines: list[str], info: str = "") -> list[str]:
    """A fenced code block no line can close early: the fence outgrows every backtick run."""
    shown = [_visible(line) for line in lines]
    longest = max((len(run) for line in shown for run in re.findall("`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", *shown, fence]


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
    title = html_text(client) if client else "(no client)"
    lines = [f"<details><summary><b>{title}</b> {_counts(shown)}</summary>", ""]
    if shown:
        diff = []
        for change in shown:
            diff += [line[2:] if line.startswith("  ") else line for line in render_change(change)]
        lines += [*code_block(diff, "diff"), ""]
    for change in notices:
        address, notice = markdown_text(change.address), markdown_text(redact(change.notice))
        lines += [f"> **{address}**: {notice}", ""]
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
            cells = (change.address, change.client or "", redact(str(outcome.failure)))
            lines.append("| " + " | ".join(markdown_text(cell) for cell in cells) + " |")
        lines.append("")
    return lines
