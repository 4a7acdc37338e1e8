"""Figures as the pages show them: one formatting, used by the templates and by the JSON the
pages poll, so a figure refreshed in place reads exactly as it did when the page loaded."""

from __future__ import annotations

from datetime import UTC, datetime

DASH = "–"


def when(epoch: float | None) -> str:
    """'2026-11-25 12:34:56 UTC', or a dash."""
    if epoch is None:
        return DASH
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def age(seconds: float | None) -> str:
    """'42 s', '7 min', '3.5 h', '2.1 d', or a dash."""
    if seconds is None:
        return DASH
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def millis(value: float | None) -> str:
    """A latency in milliseconds as '850 ms' or '2.4 s'."""
    if value is None:
        return DASH
    return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:.1f} s"


def usd(value: float | None) -> str:
    if value is None:
        return DASH
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else f"${value:.4f}"


def percent(fraction: float | None) -> str:
    return DASH if fraction is None else f"{fraction * 100:.0f}%"


def count(value: int | None) -> str:
    return DASH if value is None else f"{value:,}"


def yes_no(value: bool | None) -> str:
    return DASH if value is None else ("yes" if value else "no")
