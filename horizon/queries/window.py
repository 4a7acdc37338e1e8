"""Time windows the operations commands take: `--since 30d`, `--month 2026-11`, `--older-than`.

Stored times are epoch seconds (UTC); months are UTC calendar months, as `monthly_usage`
counts them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class WindowError(ValueError):
    """A duration or month the user typed that cannot be read; the message says why."""


def parse_duration(text: str) -> float:
    """Seconds in `text` such as `90s`, `15m`, `1h`, `30d` or `2w`."""
    match = _DURATION.match(text)
    if not match:
        raise WindowError(
            f"{text!r} is not a duration: write a number and a unit, such as 15m, 1h, 30d or 2w"
        )
    seconds = float(match.group(1)) * UNITS[match.group(2)]
    if seconds <= 0:
        raise WindowError(f"{text!r} is not a duration: it must be longer than zero")
    return seconds


def month_bounds(month: str) -> tuple[float, float]:
    """The first and one-past-last epoch second of UTC `month` (`YYYY-MM`)."""
    match = _MONTH.match(month.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise WindowError(f"{month!r} is not a month: write it as YYYY-MM, such as 2026-11")
    year, number = int(match.group(1)), int(match.group(2))
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=UTC)
    return start.timestamp(), end.timestamp()


def month_of(epoch: float) -> str:
    """The UTC month (`YYYY-MM`) that `epoch` falls in."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m")


@dataclass(frozen=True)
class Window:
    """A half-open span of time [start, end) and how to say it."""

    start: float
    end: float
    label: str

    @classmethod
    def since(cls, text: str, now: float) -> Window:
        return cls(now - parse_duration(text), now, f"last {text.strip()}")

    @classmethod
    def month(cls, month: str) -> Window:
        start, end = month_bounds(month)
        return cls(start, end, month.strip())

    def as_json(self) -> dict:
        return {
            "start": datetime.fromtimestamp(self.start, UTC).isoformat(),
            "end": datetime.fromtimestamp(self.end, UTC).isoformat(),
            "label": self.label,
        }
