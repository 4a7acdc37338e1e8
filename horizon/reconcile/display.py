"""How the renderers show paths, values and counts, so text, markdown and JSON agree."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from horizon.reconcile.redact import redact
from horizon.reconcile.resources import Action, Change, Plan

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
ARROW = "→"


def format_path(path: tuple[str, ...]) -> str:
    """`profile.name`, or `files["menu/carta.md"]` for keys that are not identifiers."""
    text = ""
    for part in path:
        if _IDENTIFIER.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part, ensure_ascii=False)}]"
    return text


def printable(text: str) -> str:
    """`text` safe for a terminal: control characters (a vendor's newline or escape
    sequence) shown as escapes instead of moving the cursor or recolouring the screen."""
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode() for char in text
    )


def format_value(value: Any) -> str:
    """A value as people read it: quoted strings, JSON lists, short content digests."""
    if value is None:
        return "(none)"
    if isinstance(value, str) and _DIGEST.match(value):
        return f"sha256:{value[:12]}…"
    return redact(json.dumps(value, ensure_ascii=False, sort_keys=True))


def summary_line(plan: Plan) -> str:
    """Terraform's closing line, or `No changes.` when the world matches git.

    Detaches are counted only when there are some, as Terraform counts resources to forget.
    """
    if plan.in_sync:
        return "No changes. Twilio and OpenAI match clients/."
    detach = plan.count(Action.DETACH)
    return (
        f"Plan: {plan.count(Action.CREATE)} to create, {plan.count(Action.UPDATE)} to update, "
        f"{plan.count(Action.DELETE)} to delete{f', {detach} to detach' if detach else ''}."
    )


def extra_lines(plan: Plan) -> list[str]:
    """Orphans and problems, counted after the summary line."""
    lines = []
    if plan.orphans:
        count = len(plan.orphans)
        lines.append(
            f"{count} resource{'s' if count != 1 else ''} orphaned (left alone without --prune)."
        )
    if plan.problems:
        count = len(plan.problems)
        lines.append(
            f"{count} resource{'s' if count != 1 else ''} cannot be reconciled "
            "without you (marked !)."
        )
    return lines


def explanation(change: Change) -> str | None:
    """Why an ORPHAN, CONFLICT, MISSING or pruned resource is in the plan, and what to do
    (or, for a pruned deletion, what it costs)."""
    if change.action is Action.ORPHAN:
        return f"{change.hint}: {change.reason}"
    if change.action.problem:
        return f"{change.reason}; {change.hint}"
    if change.action is Action.DETACH:
        text = f"detached: {change.reason}"
    elif change.action is Action.DELETE and change.reason:
        text = f"pruned: {change.reason}"
    else:
        return None
    return f"{text}; {change.hint}" if change.hint else text


def format_size(size: int) -> str:
    """A file size as people read it: `812 bytes`, `14.2 KiB`, `3.0 MiB`."""
    if size < 1024:
        return f"{size} byte{'' if size == 1 else 's'}"
    amount = float(size)
    for unit in ("KiB", "MiB", "GiB"):
        amount /= 1024
        if amount < 1024 or unit == "GiB":
            break
    return f"{amount:.1f} {unit}"


def field_source(change: Change, path: tuple[str, ...]) -> Mapping[str, Any] | None:
    """The local file a field's value stands for (a knowledge file: its path and size).

    A digest alone would hide what is uploaded; providers name the file in
    `detail["sources"]`, keyed by field path.
    """
    for resource in (change.after, change.before):
        if resource is not None:
            source = resource.detail.get("sources", {}).get(tuple(path))
            if source:
                return source
    return None


def describe_source(source: Mapping[str, Any]) -> str:
    return f"{source['path']}, {format_size(source['bytes'])}"


def field_line(
    path: tuple[str, ...], before: Any, after: Any, source: Mapping[str, Any] | None = None
) -> tuple[str, str]:
    """The symbol and text of one field's change inside a resource, and the file it stands
    for when there is one."""
    name = format_path(path)
    origin = f"  ({describe_source(source)})" if source else ""
    if before is None:
        return "+", f"{name}: {format_value(after)}{origin}"
    if after is None:
        return "-", f"{name}: {format_value(before)}{origin}"
    return "~", f"{name}: {format_value(before)} {ARROW} {format_value(after)}{origin}"
