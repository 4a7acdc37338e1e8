"""The store for asyncio code: each call runs on the store's own threads, off the event loop.

SQLite gets one thread, so writes never wait on SQLite's lock; PostgreSQL gets a few.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from horizon.store.store import Store


class AsyncStore:
    """`await async_store.record_inbound(...)` runs `Store.record_inbound` on a store thread."""

    def __init__(self, store: Store) -> None:
        self.store = store
        threads = 1 if store.dialect == "sqlite" else 8
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="store")

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self.store, name)

        async def run(*args: Any, **kwargs: Any) -> Any:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._executor, functools.partial(method, *args, **kwargs)
            )

        return run

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.store.close()
