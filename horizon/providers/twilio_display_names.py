"""A WhatsApp sender's display name as Meta's review leaves it, read from a sender listing.

A new `profile.name` is not applied at once: Meta reviews it while `profile.name` keeps the
active name, and the sender reports the review in `pending_display_name`,
`pending_display_name_status` and `pending_display_name_status_date` (SDK 9.13 docstrings,
twilio/rest/messaging/v2/channels_sender.py). Meta allows few changes per 30 days, so a
name under review or declined is never submitted again unless git names another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Meta is reviewing it, or approved it and Twilio is re-registering the sender.
IN_FLIGHT = ("PENDING_REVIEW", "APPROVED")
# Approved but not applied; "re-submit the same `profile.name` to retry" (SDK docstring).
NOT_APPLIED = {
    "PIN_MISMATCH": "correct the sender's two-step verification PIN in the Twilio Console; "
    "reconcile then submits the name again, which retries it",
    "REGISTRATION_FAILED": "reconcile submits the name again, which retries it",
    "EXPIRED": "Meta's 14-day window to apply it lapsed; reconcile submits the name again, "
    "which retries it",
}


@dataclass(frozen=True)
class DisplayName:
    """The name to compare with git's, and what to tell the operator about its review."""

    name: str | None
    notice: str | None = None
    problem: str | None = None


def display_name(record: Any, wanted: str | None) -> DisplayName:
    """Read the review of `record` (a listed sender) against the name git wants.

    A name in flight counts as the sender's name, so it is not submitted again; so does a
    declined one while git still wants it, which is then a problem only the operator can
    solve. `wanted` is None for a sender no client file asks for.
    """
    active = (record.profile or {}).get("name")
    pending = getattr(record, "pending_display_name", None)
    status = getattr(record, "pending_display_name_status", None)
    if not pending or status in (None, "COMPLETED"):
        return DisplayName(active)
    if status == "PENDING_REVIEW" and wanted not in (None, pending):
        # Meta takes one change at a time: another name now is refused (Twilio error 63128).
        return DisplayName(
            wanted,
            notice=f'the name "{wanted}" waits: "{pending}" is under WhatsApp\'s review, which '
            "takes one change at a time; run reconcile again once it is decided.",
        )
    if status in IN_FLIGHT:
        notice = f'display name "{pending}" awaits WhatsApp\'s review ({status}).'
        return DisplayName(pending, notice=notice)
    if status == "DECLINED" and wanted == pending:
        return DisplayName(pending, problem=declined(pending, record))
    if status == "DECLINED":
        return DisplayName(active, notice=f'WhatsApp declined the display name "{pending}".')
    advice = NOT_APPLIED.get(status, "check it in the Twilio Console")
    notice = f'display name "{pending}" was approved but not applied ({status}): {advice}.'
    return DisplayName(active, notice=notice)


def declined(name: str, record: Any) -> str:
    """The problem a declined name is, and what the operator can do."""
    date = getattr(record, "pending_display_name_status_date", None)
    when = f" on {date:%Y-%m-%d}" if date else ""
    # Twilio "can't retrieve or display the rejection reason from Meta" (error 63060), and
    # no sender field carries one: Meta's reason is only in WhatsApp Manager.
    return (
        f'WhatsApp declined the display name "{name}"{when}. Meta\'s reason is not in '
        "Twilio's API: read it in WhatsApp Manager, then give the client a name that follows "
        "Meta's display-name guidelines. Horizon does not submit a declined name again."
    )
