"""What every sandbox resource receives: options, the world, faults, counters, delivery."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from horizon.sandbox.delivery import Delivery
from horizon.sandbox.faults import Faults, FaultSettings
from horizon.sandbox.options import SandboxOptions
from horizon.sandbox.world import World


class RequestLog:
    """Vendor API requests received, counted by method and path template."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def record(self, route: str) -> None:
        with self._lock:
            self._counts[route] += 1

    def snapshot(self) -> dict:
        with self._lock:
            return {"total": sum(self._counts.values()), "by_route": dict(self._counts)}

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


@dataclass
class Sandbox:
    """Shared by all resources of one sandbox app; built by `horizon.sandbox.app.create_app`."""

    options: SandboxOptions
    world: World
    faults: Faults
    delivery: Delivery
    requests: RequestLog = field(default_factory=RequestLog)
    # Conversations with a response being generated right now (the real API locks them).
    busy_conversations: set[str] = field(default_factory=set)

    @classmethod
    def from_options(cls, options: SandboxOptions) -> Sandbox:
        return cls(
            options=options,
            world=World(options.state_path),
            faults=Faults(startup_faults(options)),
            delivery=Delivery(options.auth_token, options.webhook_timeout),
        )

    def reset(self) -> None:
        """Empty the world; faults go back to what the command line asked for."""
        self.world.clear()
        self.requests.clear()
        self.faults.reset(startup_faults(self.options))
        self.busy_conversations.clear()


def startup_faults(options: SandboxOptions) -> FaultSettings:
    return FaultSettings(
        fail_rate=options.fail_rate, status=options.fail_status, latency_ms=options.latency_ms
    )
