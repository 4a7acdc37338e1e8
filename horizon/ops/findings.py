"""What a check found: a verdict, what was seen, and what to do about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

PASS, FAIL, WARN, SKIP = "pass", "fail", "warn", "skip"


@dataclass(frozen=True)
class Finding:
    """One thing checked: its verdict, what was seen, and what to do when it is not `pass`."""

    check: str
    subject: str
    status: str
    detail: str
    fix: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)
