"""A replica saying it serves: registered at startup, a heartbeat every few seconds, its
stop on a clean exit, and every configuration load it makes, all in the store.

The panel's System page reads them (horizon/queries/system.py). A write that fails is
logged and left: the webhook never stops answering because its heartbeat could not be
recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket

from sqlalchemy.exc import SQLAlchemyError

from horizon import __version__
from horizon.config.errors import ConfigError
from horizon.store.aio import AsyncStore
from horizon.store.replicas import HEARTBEAT_INTERVAL, ReplicaInfo
from horizon.telemetry.logs import log_event
from horizon.webhook.live_config import LiveConfig, Loaded, config_commit


def replica_info(replica_id: str) -> ReplicaInfo:
    """This process, named `replica_id` (the worker's owner id)."""
    return ReplicaInfo(replica_id, socket.gethostname(), os.getpid(), __version__)


class Heartbeat:
    """Registers the replica on `start`, beats every `interval` seconds, marks it stopped
    on `stop`, and records each reload of `live_config` (startup's load included)."""

    def __init__(
        self,
        store: AsyncStore,
        live_config: LiveConfig,
        replica_id: str,
        interval: float = HEARTBEAT_INTERVAL,
    ) -> None:
        self.store, self.live_config = store, live_config
        self.replica = replica_info(replica_id)
        self.interval = interval
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        replicas = self.store.store.replicas
        loaded = self.live_config.current
        await self._write("register", replicas.register, self.replica, loaded.commit)
        await self._write("config", self._record, "startup", loaded, [])
        self.live_config.listeners.append(self.record_reload)
        self._task = asyncio.get_running_loop().create_task(self._beat())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(ValueError):
            self.live_config.listeners.remove(self.record_reload)
        await self._write("stop", self.store.store.replicas.stopped, self.replica.id)

    async def _beat(self) -> None:
        replicas = self.store.store.replicas
        while True:
            await asyncio.sleep(self.interval)
            commit = self.live_config.current.commit
            known = await self._write("heartbeat", replicas.heartbeat, self.replica.id, commit)
            if known is False:  # its row was removed (a restored backup): register again
                await self._write("register", replicas.register, self.replica, commit)

    async def _write(self, what: str, call, *args):
        try:
            return await self.store.call(call, *args)
        except SQLAlchemyError as error:
            log_event("replica_record_failed", level=30, what=what, error=type(error).__name__)
            return None

    def record_reload(self, trigger: str, loaded: Loaded | None, errors: list[ConfigError]) -> None:
        """A LiveConfig listener: runs on the reloading thread, so it writes directly."""
        try:
            self._record(trigger, loaded, errors)
        except SQLAlchemyError as error:
            log_event("replica_record_failed", level=30, what="config", error=type(error).__name__)

    def _record(self, trigger: str, loaded: Loaded | None, errors: list[ConfigError]) -> None:
        replicas = self.store.store.replicas
        if loaded is not None:
            replicas.record_config(
                self.replica.id, trigger, ok=True, commit=loaded.commit, clients=len(loaded.fleet)
            )
            return
        first = str(errors[0]) if errors else "rejected"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        # The commit of what was rejected: which push to look at.
        directory = self.live_config.clients_dir
        commit = config_commit(directory) if directory is not None else None
        replicas.record_config(
            self.replica.id, trigger, ok=False, commit=commit, error=first + more
        )
