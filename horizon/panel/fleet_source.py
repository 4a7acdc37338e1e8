"""The clients the panel shows: the valid client files, re-read when the directory changes."""

from __future__ import annotations

import threading
from pathlib import Path

from horizon.config.fleet import Fleet
from horizon.config.loader import load_fleet


class FleetSource:
    """`current()` is the fleet as the files are now; files with errors are left out."""

    def __init__(self, clients_dir: Path) -> None:
        self.clients_dir = Path(clients_dir)
        self._lock = threading.Lock()
        self._seen: tuple | None = None
        self._fleet = Fleet()

    def current(self) -> Fleet:
        with self._lock:
            seen = self._snapshot()
            if seen != self._seen:
                self._fleet = load_fleet(self.clients_dir).fleet
                self._seen = seen
            return self._fleet

    def _snapshot(self) -> tuple:
        """The client files' names, sizes and times: a stat each, no reading or parsing."""
        try:
            entries = sorted(self.clients_dir.iterdir())
        except OSError:
            return ()
        seen = []
        for path in entries:
            try:
                stat = path.stat()
            except OSError:
                continue
            seen.append((path.name, stat.st_size, stat.st_mtime_ns))
        return tuple(seen)
