"""The store for asyncio code: each call runs on the store's own threads, off the event loop.

Storing an inbound message has a thread of its own, so Twilio's acknowledgement never
queues behind the worker's calls; everything else shares one thread on SQLite (whose
writes are serialised anyway) or a few on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from horizon.store.store import Store

INGEST = frozenset({"record_inbound"})


class AsyncStore:
    """`await async_store.record_inbound(...)` runs `Store.record_inbound` on a store thread."""

    def __init__(self, store: Store) -> None:
        self.store = store
        threads = 1 if store.dialect == "sqlite" else 8
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="store")
        self._ingest = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-ingest")

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self.store, name)
        executor = self._ingest if name in INGEST else self._executor

        async def run(*args: Any, **kwargs: Any) -> Any:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(executor, functools.partial(method, *args, **kwargs))

        return run

    def close(self) -> None:
        self._ingest.shutdown(wait=True)
        self._executor.shutdown(wait=True)
        self.store.close()
