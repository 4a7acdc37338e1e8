"""Injected faults: latency and failure rates per path, set by flags or live by the control API."""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, replace

FAILURE_STATUSES = (429, 500, 502, 503, 504)
# "before": the request fails (or waits) before it takes effect, as a refused request does.
# "after": it takes effect first, then its answer is late or lost: the case a client cannot
# tell from a refusal, and must not repeat blindly.
PHASES = ("before", "after")


class FaultError(ValueError):
    """A fault setting that cannot be applied; the message says which and why."""


@dataclass(frozen=True)
class FaultSettings:
    fail_rate: float = 0.0
    status: int = 500
    latency_ms: float = 0.0
    # Request paths the faults apply to: an exact path, or a prefix ending at a '/' boundary.
    # Empty means every vendor path.
    paths: tuple[str, ...] = ()
    # Seconds announced in Retry-After on injected 429s.
    retry_after: float = 1.0
    seed: int | None = None
    phase: str = "before"
    # A failure is a dropped connection (no answer at all) instead of an HTTP status.
    drop: bool = False

    def as_json(self) -> dict:
        return {**asdict(self), "paths": list(self.paths)}


class Faults:
    """The current fault settings and the random source that decides which requests fail."""

    def __init__(self, settings: FaultSettings | None = None) -> None:
        self.settings = settings or FaultSettings()
        self._random = random.Random(self.settings.seed)

    def update(self, changes: dict) -> FaultSettings:
        """Apply a partial update (the control API's JSON); unknown keys are errors."""
        unknown = set(changes) - set(FaultSettings.__dataclass_fields__)
        if unknown:
            raise FaultError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        settings = _coherent(replace(self.settings, **_validated(changes)))
        self.settings = settings
        if "seed" in changes:
            self._random = random.Random(settings.seed)
        return settings

    def reset(self, settings: FaultSettings | None = None) -> None:
        self.settings = settings or FaultSettings()
        self._random = random.Random(self.settings.seed)

    def applies_to(self, path: str) -> bool:
        paths = self.settings.paths
        return not paths or any(_matches(prefix, path) for prefix in paths)

    def latency(self, path: str, phase: str = "before") -> float:
        """Seconds to hold this request at `phase`: before it takes effect, or after."""
        settings = self.settings
        if settings.latency_ms <= 0 or settings.phase != phase or not self.applies_to(path):
            return 0.0
        return settings.latency_ms / 1000

    def failure(self, path: str) -> int | None:
        """The HTTP status this request should fail with, or None to serve it."""
        rate = self.settings.fail_rate
        if rate <= 0 or not self.applies_to(path):
            return None
        return self.settings.status if self._random.random() < rate else None


def _matches(prefix: str, path: str) -> bool:
    if path == prefix:
        return True
    boundary = prefix if prefix.endswith("/") else prefix + "/"
    return path.startswith(boundary)


def _validated(changes: dict) -> dict:
    clean = dict(changes)
    if "fail_rate" in clean:
        clean["fail_rate"] = _number(clean["fail_rate"], "fail_rate", 0.0, 1.0)
    if "latency_ms" in clean:
        clean["latency_ms"] = _number(clean["latency_ms"], "latency_ms", 0.0, 600_000.0)
    if "retry_after" in clean:
        clean["retry_after"] = _number(clean["retry_after"], "retry_after", 0.0, 3600.0)
    if "status" in clean and clean["status"] not in FAILURE_STATUSES:
        raise FaultError(f"status must be one of {', '.join(map(str, FAILURE_STATUSES))}")
    if "phase" in clean and clean["phase"] not in PHASES:
        raise FaultError(f"phase must be one of {', '.join(PHASES)}")
    if "drop" in clean and not isinstance(clean["drop"], bool):
        raise FaultError("drop must be true or false")
    if "paths" in clean:
        paths = clean["paths"]
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise FaultError("paths must be a list of strings")
        clean["paths"] = tuple(paths)
    if "seed" in clean and clean["seed"] is not None and not isinstance(clean["seed"], int):
        raise FaultError("seed must be an integer or null")
    return clean


def _coherent(settings: FaultSettings) -> FaultSettings:
    if settings.phase == "after" and settings.status == 429 and not settings.drop:
        raise FaultError("a 429 refuses a request before it takes effect: use phase 'before'")
    return settings


def _number(value: object, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise FaultError(f"{name} must be a number")
    if not low <= value <= high:
        raise FaultError(f"{name} must be between {low:g} and {high:g}")
    return float(value)
