"""The store for asyncio code: each call runs on the store's own threads, off the event loop.

On SQLite, whose writes are serialised anyway, one thread owns the database: two writing
connections would wait on each other's locks in SQLite's sleeping busy handler, which is
what made acknowledgements slow under load. Storing inbound messages goes first on that
thread, and every message waiting to be stored shares one transaction, so Twilio's
acknowledgement never queues behind the worker's calls. PostgreSQL gets a few threads
for the worker's calls and one for acknowledgements.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from horizon.store.records import InboundMessage
from horizon.store.store import Store


class AsyncStore:
    """`await async_store.pending_work(...)` runs `Store.pending_work` on a store thread."""

    def __init__(self, store: Store) -> None:
        self.store = store
        if store.dialect == "sqlite":
            self._thread: StoreThread | None = StoreThread(store)
            self._executor = self._ingest = None
        else:
            self._thread = None
            self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="store")
            self._ingest = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-ingest")

    async def record_inbound(self, message: InboundMessage) -> bool:
        """Store an inbound message before it is acknowledged; False if its sid is known."""
        if self._thread is not None:
            return await asyncio.wrap_future(self._thread.record_inbound(message))
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._ingest, self.store.record_inbound, message)

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self.store, name)

        async def run(*args: Any, **kwargs: Any) -> Any:
            call = functools.partial(method, *args, **kwargs)
            if self._thread is not None:
                return await asyncio.wrap_future(self._thread.submit(call))
            return await asyncio.get_running_loop().run_in_executor(self._executor, call)

        return run

    def close(self) -> None:
        if self._thread is not None:
            self._thread.close()
        else:
            self._ingest.shutdown(wait=True)
            self._executor.shutdown(wait=True)
        self.store.close()


class StoreThread:
    """The one thread that uses a SQLite store: inbound messages first, batched per commit.

    The thread starts on first use and stops (after finishing what was queued) on close.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._inbound: list[tuple[InboundMessage, Future]] = []
        self._calls: deque[tuple[Callable[[], Any], Future]] = deque()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closing = False

    def record_inbound(self, message: InboundMessage) -> Future:
        future: Future = Future()
        with self._ready:
            self._check_open()
            self._inbound.append((message, future))
            self._ready.notify()
        return future

    def submit(self, call: Callable[[], Any]) -> Future:
        future: Future = Future()
        with self._ready:
            self._check_open()
            self._calls.append((call, future))
            self._ready.notify()
        return future

    def close(self) -> None:
        with self._ready:
            self._closing = True
            self._ready.notify()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _check_open(self) -> None:
        if self._closing:
            raise RuntimeError("the store is closed")
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="store", daemon=True)
            self._thread.start()

    def _serve(self) -> None:
        while True:
            with self._ready:
                while not (self._inbound or self._calls or self._closing):
                    self._ready.wait()
                inbound, self._inbound = self._inbound, []
                call = self._calls.popleft() if self._calls and not inbound else None
                if not inbound and call is None:
                    return  # closing, and everything queued is done
            if inbound:
                self._store_inbound(inbound)
            elif call is not None:
                _run(*call)

    def _store_inbound(self, batch: list[tuple[InboundMessage, Future]]) -> None:
        # Every message is stored, even one whose request went away meanwhile: Twilio
        # retries it, and the stored copy makes the retry a recognised duplicate.
        waiting = [future.set_running_or_notify_cancel() for _, future in batch]
        try:
            stored = self.store.record_inbound_many([message for message, _ in batch])
        except BaseException as error:  # handed to every waiting request
            for (_, future), running in zip(batch, waiting, strict=True):
                if running:
                    future.set_exception(error)
            return
        for (_, future), running, result in zip(batch, waiting, stored, strict=True):
            if running:
                future.set_result(result)


def _run(call: Callable[[], Any], future: Future) -> None:
    if not future.set_running_or_notify_cancel():
        return
    try:
        result = call()
    except BaseException as error:  # raised again where it is awaited
        future.set_exception(error)
    else:
        future.set_result(result)
