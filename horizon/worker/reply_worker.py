"""ReplyWorker: answers stored messages, one turn at a time per (client, user), in order.

Each pair with unanswered messages gets one asyncio task; tasks of different pairs run
concurrently, at most `concurrency` turns at once. Messages arriving within the
coalescing window of the previous one join the same turn.

Workers sharing a database (replicas) never answer a message twice: a turn first claims
its messages in the store, under a lease renewed while it runs. A pair whose turn is
held by another worker is left alone until that turn ends or its lease expires, and a pair
whose reply waits in the outbox (Twilio would not take it) until its next try is due. On
start, and every `sweep_interval` after, the worker takes up work nobody holds: messages
stored but not answered, the turns of workers that died, and replies due from the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import time
from dataclasses import dataclass, field

from horizon.store.aio import AsyncStore
from horizon.store.records import WorkItem
from horizon.telemetry.logs import log_event
from horizon.telemetry.metrics import Metrics
from horizon.vendors.retry import RetryPolicy
from horizon.worker.batching import next_batch
from horizon.worker.outbox import OUTBOX_BACKOFF, SEND_POLICY
from horizon.worker.turn import TurnRunner

Pair = tuple[str, str]  # (client id, user number)
DONE, LOST, RETRY = "done", "lost", "retry"  # how a turn attempt ended


@dataclass(frozen=True)
class WorkerOptions:
    coalesce_window: float = 1.5  # seconds of quiet after a message before its turn starts
    max_coalesce_wait: float = 6.0  # a user who keeps typing is answered after this anyway
    # Turns in flight across all pairs. By Little's law, 200 msg/s answered by a model
    # taking ~2 s needs ~400 in flight; 256 capped a burst at ~110 turns/s.
    concurrency: int = 512
    retry_failed_pair_after: float = 5.0  # after an unexpected error in a pair's task
    # A turn failing unexpectedly this many times is given up: the user gets the client's
    # fallback_message and the pair's later messages are answered.
    max_attempts: int = 3
    # On stop, turns under way get this long to finish (the user is waiting for them)
    # before they are cut short; the serve process gives uvicorn the same grace.
    shutdown_grace: float = 5.0
    # A claim lasts this long unless renewed (every quarter of it while the turn runs);
    # a dead worker's turns are taken over this long after its last renewal.
    lease: float = 10.0
    sweep_interval: float = 2.0  # how often to look for work nobody holds
    held_poll: float = 0.25  # how often to look again at a pair another worker holds
    # Each reply part is sent under `send_policy`; a reply it cannot get out waits in the
    # outbox and is tried again after `outbox_backoff`'s delays, until the reply deadline.
    send_policy: RetryPolicy = SEND_POLICY
    outbox_backoff: RetryPolicy = OUTBOX_BACKOFF


def worker_id() -> str:
    """Names this process's worker in the claims it holds: host, pid and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class _PairTask:
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None


class ReplyWorker:
    """Schedules turns; `notify` is called by the webhook after it stores a message."""

    def __init__(
        self,
        store: AsyncStore,
        turns: TurnRunner,
        metrics: Metrics,
        options: WorkerOptions | None = None,
        owner: str | None = None,
    ) -> None:
        self.store, self.turns, self.metrics = store, turns, metrics
        self.options = options or WorkerOptions()
        self.owner = owner or worker_id()
        self._pairs: dict[Pair, _PairTask] = {}
        self._slots: asyncio.Semaphore | None = None
        self._stopping = False
        self._in_turn: set[Pair] = set()
        self._background: list[asyncio.Task] = []

    async def start(self) -> int:
        """Begin serving; takes up every unanswered message nobody holds. Returns the pairs."""
        self._slots = asyncio.Semaphore(self.options.concurrency)
        self._stopping = False
        resumed = await self._sweep()
        if resumed:
            log_event("worker_resumed", pairs=resumed)
        await self._measure_outbox()
        loop = asyncio.get_running_loop()
        self._background = [
            loop.create_task(self._every(self.options.sweep_interval, self._sweep)),
            loop.create_task(self._every(self.options.lease / 4, self._renew)),
            loop.create_task(self._every(self.options.sweep_interval, self._measure_outbox)),
            loop.create_task(self._every(self.options.sweep_interval, self._late_statuses)),
        ]
        return resumed

    def notify(self, client_id: str, user_number: str) -> None:
        """A message for the pair was stored: make sure its task is running and sees it."""
        if self._stopping or self._slots is None:
            return
        key = (client_id, user_number)
        pair = self._pairs.get(key)
        if pair is None:
            pair = self._pairs[key] = _PairTask()
            pair.task = asyncio.get_running_loop().create_task(self._serve(key, pair))
            self.metrics.pairs_active.set(len(self._pairs))
        pair.arrived.set()

    @property
    def active_pairs(self) -> int:
        return len(self._pairs)

    async def stop(self, grace: float | None = None) -> None:
        """Take no new turns; let turns under way finish within `grace` seconds, then cancel.

        `grace` defaults to `options.shutdown_grace`. The claims of turns cut short are
        released, so the next worker to look resumes them at once; pairs only waiting
        (coalescing, or for a slot) are stopped at once.
        """
        self._stopping = True
        grace = self.options.shutdown_grace if grace is None else grace
        tasks = {key: pair.task for key, pair in self._pairs.items() if pair.task}
        busy = [task for key, task in tasks.items() if key in self._in_turn]
        for key, task in tasks.items():
            if key not in self._in_turn:
                task.cancel()
        if busy:
            log_event("worker_draining", turns=len(busy), grace=grace)
            _, unfinished = await asyncio.wait(busy, timeout=grace)
            for task in unfinished:
                task.cancel()
            if unfinished:
                log_event("worker_turns_cut_short", level=30, turns=len(unfinished))
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.store.queue.release_claims(self.owner)

    # -- one pair --------------------------------------------------------------------------

    async def _serve(self, key: Pair, pair: _PairTask) -> None:
        try:
            items = await self._read(key, pair)
            while items and not self._stopping:
                if items[0].parked(time.time()):
                    return  # a reply waits in the outbox: a sweep brings the pair back when due
                if items[0].held_by_other(self.owner, time.time()):
                    items = await self._read_later(key, pair)
                    continue
                items = await self._coalesce(key, pair, items)
                if not items or items[0].held_by_other(self.owner, time.time()):
                    continue
                batch = next_batch(items, self.turns.keywords)
                assert self._slots is not None
                async with self._slots:
                    if self._stopping:
                        return
                    self._in_turn.add(key)
                    try:
                        outcome = await self._run_turn(key, batch)
                    finally:
                        self._in_turn.discard(key)
                if outcome == LOST:  # another worker claimed them first: see what is left
                    items = await self._read_later(key, pair)
                    continue
                # Nothing stored since the last read and every message read answered:
                # done. (No await between this check and leaving `_pairs`, so no
                # notify can be missed.)
                if outcome == RETRY or (len(batch) == len(items) and not pair.arrived.is_set()):
                    return
                items = await self._read(key, pair)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the store failed: keep the messages queued, try later
            log_event("worker_error", level=40, client=key[0], user=key[1], error=repr(error))
            loop = asyncio.get_running_loop()
            loop.call_later(self.options.retry_failed_pair_after, self.notify, *key)
        finally:
            self._pairs.pop(key, None)
            self.metrics.pairs_active.set(len(self._pairs))

    async def _claim(self, key: Pair, batch: list[WorkItem]) -> int | None:
        """The turn for `batch`, claimed (new) or taken over (resumed); None if lost."""
        ids, lease = [item.id for item in batch], self.options.lease
        turn_id = batch[0].turn_id
        if turn_id is None:
            return await self.store.queue.start_turn(*key, ids, self.owner, lease)
        if await self.store.queue.resume_turn(turn_id, ids, self.owner, lease):
            return turn_id
        return None

    async def _run_turn(self, key: Pair, batch: list[WorkItem]) -> str:
        """Claim and run one turn: DONE, LOST (claimed elsewhere) or RETRY (failed, later)."""
        turn_id = await self._claim(key, batch)
        if turn_id is None:
            return LOST
        try:
            await self.turns.run(batch, turn_id)
            return DONE
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug, or a vendor answering nonsense
            attempts = await self.store.queue.record_failed_attempt(turn_id)
            log_event(
                "turn_failed",
                level=40,
                client=key[0],
                sid=batch[0].sid,
                user=key[1],
                attempt=attempts,
                error=repr(error),
            )
            if attempts < self.options.max_attempts:
                await self.store.queue.release_claims(self.owner, turn_id)
                loop = asyncio.get_running_loop()
                loop.call_later(self.options.retry_failed_pair_after, self.notify, *key)
                return RETRY
            await self._give_up(batch, turn_id, repr(error))
            return DONE

    async def _give_up(self, batch: list[WorkItem], turn_id: int, error: str) -> None:
        try:
            await self.turns.give_up(batch, turn_id, error)
        except Exception as again:  # not even the fallback could be sent: stop trying
            log_event("turn_abandoned", level=40, sid=batch[0].sid, error=repr(again))
            await self.store.replies.finish_turn(turn_id, "failed", error)

    async def _read(self, key: Pair, pair: _PairTask) -> list[WorkItem]:
        """The pair's queue; `arrived` is set again by any message stored after this read."""
        while True:
            pair.arrived.clear()
            items = await self.store.queue.pending_work(*key)
            if items or not pair.arrived.is_set():
                return items

    async def _read_later(self, key: Pair, pair: _PairTask) -> list[WorkItem]:
        """The queue again after `held_poll` (or a new message): another worker holds it."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(pair.arrived.wait(), self.options.held_poll)
        return await self._read(key, pair)

    async def _coalesce(self, key: Pair, pair: _PairTask, items: list[WorkItem]) -> list[WorkItem]:
        """Wait until the pair has been quiet for the window (bounded), re-reading on arrivals."""
        window = self.options.coalesce_window
        if window <= 0 or items[0].turn_id is not None:
            return items
        cap = max(time.time(), items[0].received_at) + self.options.max_coalesce_wait
        while True:
            newest = max(item.received_at for item in items)
            wait = min(newest + window, cap) - time.time()
            if wait <= 0:
                return items
            try:
                await asyncio.wait_for(pair.arrived.wait(), wait)
            except TimeoutError:
                return items  # quiet for the whole window: the queue is as last read
            items = await self._read(key, pair)
            if not items or items[0].turn_id is not None:  # a turn began meanwhile
                return items

    # -- all pairs -------------------------------------------------------------------------

    async def _sweep(self) -> int:
        """Start a task for every pair with work this worker may claim; how many started."""
        started = 0
        for key in await self.store.queue.claimable_pairs(self.owner):
            if key not in self._pairs:
                self.notify(*key)
                started += 1
        return started

    async def _measure_outbox(self) -> None:
        waiting = await self.store.outbox.waiting()
        now = time.time()
        self.metrics.show_outbox({client: (n, now - t) for client, (n, t) in waiting.items()})

    async def _late_statuses(self) -> None:
        # A delivery status can reach a replica before this worker recorded its part (and
        # a recording can miss one stored at that very moment): give them to their parts.
        await self.store.replies.apply_early_statuses()

    async def _renew(self) -> None:
        if self._in_turn:
            await self.store.queue.renew_leases(self.owner, self.options.lease)

    async def _every(self, interval: float, job) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await job()
            except Exception as error:  # the store failed: the next round tries again
                log_event("worker_error", level=40, job=job.__name__, error=repr(error))
