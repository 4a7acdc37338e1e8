"""The store for asyncio code: each call runs on the store's own threads, off the event loop.

On SQLite, whose writes are serialised anyway, one thread owns the database: two writing
connections would wait on each other's locks in SQLite's sleeping busy handler, which is
what made acknowledgements slow under load. Storing inbound messages goes first on that
thread, and every message waiting to be stored shares one transaction, so Twilio's
acknowledgement never queues behind the worker's calls. PostgreSQL gets a few threads
for the worker's calls and one for acknowledgements.

Each async method is written out over the synchronous one of the same name, so a call
can be followed to its SQL: `AsyncWorkQueue.pending_work` -> `WorkQueue.pending_work`.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from horizon.store.queue import DEFAULT_LEASE
from horizon.store.records import InboundMessage, Turn, Usage, WorkItem
from horizon.store.store import Store

P = ParamSpec("P")
T = TypeVar("T")


class StoreCalls:
    """Where store calls run: SQLite's one store thread, or PostgreSQL's thread pools."""

    def __init__(self, store: Store) -> None:
        self.store = store
        if store.dialect == "sqlite":
            self._thread: StoreThread | None = StoreThread(store)
            self._executor = self._ingest = None
        else:
            self._thread = None
            self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="store")
            self._ingest = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-ingest")

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`function(*args, **kwargs)` on a store thread."""
        call = functools.partial(function, *args, **kwargs)
        if self._thread is not None:
            return await asyncio.wrap_future(self._thread.submit(call))
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def record_inbound(self, message: InboundMessage) -> bool:
        """Store an inbound message ahead of every other call (batched on SQLite)."""
        if self._thread is not None:
            return await asyncio.wrap_future(self._thread.record_inbound(message))
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._ingest, self.store.queue.record_inbound, message)

    def close(self) -> None:
        if self._thread is not None:
            self._thread.close()
        else:
            self._ingest.shutdown(wait=True)
            self._executor.shutdown(wait=True)


class AsyncWorkQueue:
    """`WorkQueue` for asyncio code."""

    def __init__(self, calls: StoreCalls) -> None:
        self._calls, self._queue = calls, calls.store.queue

    async def record_inbound(self, message: InboundMessage) -> bool:
        """Store an inbound message before it is acknowledged; False if its sid is known."""
        return await self._calls.record_inbound(message)

    async def claimable_pairs(self, owner: str | None = None) -> list[tuple[str, str]]:
        return await self._calls.run(self._queue.claimable_pairs, owner)

    async def pending_work(self, client_id: str, user_number: str) -> list[WorkItem]:
        return await self._calls.run(self._queue.pending_work, client_id, user_number)

    async def start_turn(
        self,
        client_id: str,
        user_number: str,
        work_ids: list[int],
        owner: str = "local",
        lease: float = DEFAULT_LEASE,
    ) -> int | None:
        start = self._queue.start_turn
        return await self._calls.run(start, client_id, user_number, work_ids, owner, lease)

    async def resume_turn(
        self, turn_id: int, work_ids: list[int], owner: str, lease: float = DEFAULT_LEASE
    ) -> bool:
        return await self._calls.run(self._queue.resume_turn, turn_id, work_ids, owner, lease)

    async def renew_leases(self, owner: str, lease: float = DEFAULT_LEASE) -> int:
        return await self._calls.run(self._queue.renew_leases, owner, lease)

    async def release_claims(self, owner: str, turn_id: int | None = None) -> int:
        return await self._calls.run(self._queue.release_claims, owner, turn_id)

    async def record_failed_attempt(self, turn_id: int) -> int:
        return await self._calls.run(self._queue.record_failed_attempt, turn_id)


class AsyncReplies:
    """`Replies` for asyncio code."""

    def __init__(self, calls: StoreCalls) -> None:
        self._calls, self._replies = calls, calls.store.replies

    async def turn(self, turn_id: int) -> Turn:
        return await self._calls.run(self._replies.turn, turn_id)

    async def sent_sids(self, client_id: str, user_number: str, since: float) -> set[str]:
        return await self._calls.run(self._replies.sent_sids, client_id, user_number, since)

    async def save_reply(
        self,
        turn_id: int,
        kind: str,
        parts: list[str],
        usage: Usage | None = None,
        response_id: str | None = None,
        error: str | None = None,
    ) -> None:
        save = self._replies.save_reply
        await self._calls.run(save, turn_id, kind, parts, usage, response_id, error)

    async def record_part_sent(
        self,
        turn: Turn,
        part: int,
        sid: str,
        sender: tuple[str, str, str],
        status: str,
        usage: Usage | None = None,
        finish: tuple[str, str | None] | None = None,
    ) -> None:
        record = self._replies.record_part_sent
        await self._calls.run(record, turn, part, sid, sender, status, usage, finish)

    async def finish_turn(self, turn_id: int, status: str, error: str | None = None) -> None:
        await self._calls.run(self._replies.finish_turn, turn_id, status, error)

    async def update_status(self, sid: str, status: str, error: str | None = None) -> bool:
        return await self._calls.run(self._replies.update_status, sid, status, error)

    async def apply_early_statuses(self) -> int:
        return await self._calls.run(self._replies.apply_early_statuses)


class AsyncUsers:
    """`Users` for asyncio code."""

    def __init__(self, calls: StoreCalls) -> None:
        self._calls, self._users = calls, calls.store.users

    async def conversation(self, client_id: str, user_number: str) -> tuple[str, float] | None:
        return await self._calls.run(self._users.conversation, client_id, user_number)

    async def save_conversation(
        self, client_id: str, user_number: str, conversation_id: str
    ) -> None:
        save = self._users.save_conversation
        await self._calls.run(save, client_id, user_number, conversation_id)

    async def set_opt_out(
        self, client_id: str, user_number: str, opted_out: bool, keyword: str
    ) -> None:
        await self._calls.run(self._users.set_opt_out, client_id, user_number, opted_out, keyword)

    async def is_opted_out(self, client_id: str, user_number: str) -> bool:
        return await self._calls.run(self._users.is_opted_out, client_id, user_number)

    async def inbound_count_since(self, client_id: str, user_number: str, since: float) -> int:
        count = self._users.inbound_count_since
        return await self._calls.run(count, client_id, user_number, since)

    async def last_reply_of_kind(self, client_id: str, user_number: str, kind: str) -> float | None:
        last = self._users.last_reply_of_kind
        return await self._calls.run(last, client_id, user_number, kind)

    async def monthly_usage(self, client_id: str, at: float) -> list[Usage]:
        return await self._calls.run(self._users.monthly_usage, client_id, at)

    async def usage_since(self, client_id: str, since: float) -> list[Usage]:
        return await self._calls.run(self._users.usage_since, client_id, since)


class AsyncOutbox:
    """`Outbox` for asyncio code."""

    def __init__(self, calls: StoreCalls) -> None:
        self._calls, self._outbox = calls, calls.store.outbox

    async def park(self, turn_id: int, until: float, error: str) -> int:
        return await self._calls.run(self._outbox.park, turn_id, until, error)

    async def waiting(self) -> dict[str, tuple[int, float]]:
        return await self._calls.run(self._outbox.waiting)


class AsyncStore:
    """`Store` for asyncio code: the same parts (`queue`, `replies`, `users`, `outbox`)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._calls = StoreCalls(store)
        self.queue = AsyncWorkQueue(self._calls)
        self.replies = AsyncReplies(self._calls)
        self.users = AsyncUsers(self._calls)
        self.outbox = AsyncOutbox(self._calls)

    async def ping(self) -> None:
        await self._calls.run(self.store.ping)

    async def call(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Any other call of the store (`store.replicas.heartbeat`) on the store's threads."""
        return await self._calls.run(function, *args, **kwargs)

    def close(self) -> None:
        self._calls.close()
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
            stored = self.store.queue.record_inbound_many([message for message, _ in batch])
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
