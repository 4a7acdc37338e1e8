"""Live drift for the panel: the read-only plan `horizon reconcile --dry-run` computes, run in
a background thread every few minutes and on demand, turned into a status per client.

    checker = DriftChecker(settings, clients_dir, interval_s=300)
    checker.start()                  # a first check at once, then one every interval
    checker.latest()                 # the newest DriftReport, None before the first
    checker.refresh()                # a check now (after the one under way, if any)
    checker.stop()

A client is Synced (the plan changes nothing of it), OutOfSync (with the fields that
differ), Missing (something of it is still to create) or NotManaged (a resource it needs
exists without Horizon's mark: `horizon adopt`). Resources marked for a client without a
file are orphans, reported apart. Nothing here changes anything at a vendor.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from horizon.config.loader import load_fleet
from horizon.ops.drift_status import ClientDrift, client_drift, knowledge_status, orphans_of
from horizon.reconcile.plan import plan_fleet
from horizon.reconcile.provider import Provider
from horizon.settings import Settings
from horizon.telemetry.logs import log_event

__all__ = ["ClientDrift", "DriftChecker", "DriftReport"]

DEFAULT_INTERVAL = 300.0


@dataclass(frozen=True)
class DriftReport:
    """One check: when it ended, why it failed (one line; then `clients` is empty), each
    client's drift by id, and the orphans (marked for a client that has no file)."""

    checked_at: float
    error: str | None = None
    clients: dict[str, ClientDrift] = field(default_factory=dict)
    orphans: list[dict] = field(default_factory=list)
    duration_s: float = 0.0


class DriftChecker:
    """Plans the clients directory against the vendors of `settings`, one plan at a time."""

    def __init__(
        self,
        settings: Settings,
        clients_dir: str | Path,
        interval_s: float = DEFAULT_INTERVAL,
        *,
        providers: Callable[[Settings], list[Provider]] | None = None,
    ) -> None:
        """`providers` builds the providers (default: horizon.providers.build_providers)."""
        self.settings, self.clients_dir = settings, Path(clients_dir)
        self.interval_s = interval_s
        self._build = providers or _build_providers
        self._providers: list[Provider] | None = None
        self._planning = threading.Lock()  # never two plans at once
        self._latest: DriftReport | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Check now and every `interval_s` on a daemon thread, until `stop`."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="horizon-drift", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def latest(self) -> DriftReport | None:
        return self._latest

    def refresh(self) -> DriftReport:
        """Check now and return the report; waits for a check under way to end first."""
        with self._planning:
            report = self._check()
            self._latest = report
            return report

    def _run(self) -> None:
        while not self._stopping.is_set():
            self.refresh()
            self._stopping.wait(self.interval_s)

    def _check(self) -> DriftReport:
        started = time.monotonic()
        try:
            clients, orphans = self._plan()
        except Exception as error:  # a failed check is a report, never a dead thread
            line = _one_line(error)
            log_event("drift_check_failed", level=30, error=line)
            self._providers = None  # built again next time: a setting may have been fixed
            return DriftReport(time.time(), line, duration_s=time.monotonic() - started)
        return DriftReport(time.time(), None, clients, orphans, time.monotonic() - started)

    def _plan(self) -> tuple[dict[str, ClientDrift], list[dict]]:
        loaded = load_fleet(self.clients_dir)
        if loaded.errors:
            errors = sorted(loaded.errors)
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise DriftError(f"{errors[0]}{more}")
        if self._providers is None:
            self._providers = self._build(self.settings)
        plan = plan_fleet(loaded.fleet, self._providers)
        by_client = plan.by_client()
        clients = {}
        for client in loaded.fleet:
            drift = client_drift(client, by_client.get(client.id, []))
            knowledge = knowledge_status(client, by_client.get(client.id, []), self._providers)
            clients[client.id] = drift.with_knowledge(knowledge)
        return clients, orphans_of(plan, {client.id for client in loaded.fleet})


class DriftError(Exception):
    """A check that cannot plan (the client files have errors); the message is one line."""


def _one_line(error: Exception) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if isinstance(error, DriftError) else f"{type(error).__name__}: {text}"


def _build_providers(settings: Settings) -> list[Provider]:
    from horizon.providers import build_providers

    return build_providers(settings)
