"""The live configuration: the validated Fleet (its routing table, number -> client) and its
git commit, built from the committed client files and swapped whole on reload.

A broken config never replaces a good one: its errors are logged and returned, and the
old table keeps serving.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from horizon.config.committed import head_commit
from horizon.config.errors import ConfigError
from horizon.config.fleet import Fleet
from horizon.config.loader import load_fleet
from horizon.telemetry.logs import log_event
from horizon.telemetry.metrics import Metrics


@dataclass(frozen=True)
class Loaded:
    """One validated config: its Fleet and the git commit it was read at (if in git)."""

    fleet: Fleet
    commit: str | None = None


# Told of every reload: its trigger (signal, api, watch), the config applied (None when
# rejected) and the errors that rejected it.
ReloadListener = Callable[[str, "Loaded | None", list[ConfigError]], None]


class LiveConfig:
    """Holds the current `Loaded`; readers take `live_config.current` once per request."""

    def __init__(
        self,
        fleet: Fleet,
        clients_dir: str | Path | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        """`metrics` counts every reload (API, SIGHUP, file watcher) by its result."""
        self.clients_dir = Path(clients_dir) if clients_dir is not None else None
        self.metrics = metrics
        commit = config_commit(self.clients_dir) if self.clients_dir else None
        self.current = Loaded(fleet, commit)
        self.listeners: list[ReloadListener] = []

    @property
    def fleet(self) -> Fleet:
        return self.current.fleet

    def reload(self, trigger: str = "api") -> list[ConfigError]:
        """Re-read and validate the clients directory; swap only if it is valid.

        `trigger` says what asked (signal, api, watch), for the listeners."""
        if self.clients_dir is None:
            return []
        result = load_fleet(self.clients_dir)
        if result.errors:
            for error in result.errors:
                log_event("config_rejected", level=40, error=str(error))
            self._count("rejected")
            self._tell(trigger, None, list(result.errors))
            return list(result.errors)
        self.current = Loaded(result.fleet, config_commit(self.clients_dir))
        log_event("config_applied", clients=len(result.fleet), commit=self.current.commit)
        self._count("applied")
        self._tell(trigger, self.current, [])
        return []

    def _tell(self, trigger: str, loaded: Loaded | None, errors: list[ConfigError]) -> None:
        for listener in self.listeners:
            listener(trigger, loaded, errors)

    def _count(self, result: str) -> None:
        if self.metrics is not None:
            self.metrics.config_reloads.labels(result).inc()


def config_commit(directory: Path) -> str | None:
    """The git commit the clients directory is checked out at, or None outside git."""
    return head_commit(directory)


def _snapshot(directory: Path) -> tuple:
    """What changes when a client file or knowledge file is edited, added or removed."""
    entries = []
    for path in sorted(directory.rglob("*")):
        try:
            stat = path.stat()
        except OSError:
            continue
        entries.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(entries)


async def watch(live_config: LiveConfig, interval: float = 2.0) -> None:
    """Reload whenever the clients directory changes (`horizon serve --reload-config`)."""
    if live_config.clients_dir is None:
        return
    seen = await asyncio.to_thread(_snapshot, live_config.clients_dir)
    while True:
        await asyncio.sleep(interval)
        now = await asyncio.to_thread(_snapshot, live_config.clients_dir)
        if now != seen:
            seen = now
            await asyncio.to_thread(live_config.reload, "watch")
