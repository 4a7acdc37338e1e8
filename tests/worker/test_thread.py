"""The worker on its own thread: told about messages from another thread, stopped cleanly."""

from __future__ import annotations

import asyncio
import threading
import time

from horizon.worker.reply_worker import ReplyWorker, WorkerOptions
from horizon.worker.thread import WorkerThread

from .conftest import inbound

USER = "+34600000001"


def test_a_message_notified_from_another_thread_is_answered_on_the_workers_own(sandbox, pipeline):
    def replies() -> list[str]:
        return [m["body"] for m in sandbox.messages(direction="outbound-api")]

    async def run() -> list[str]:
        built = pipeline()
        worker = ReplyWorker(built.async_store, built.turns, built.metrics, WorkerOptions(0))
        runner = WorkerThread(worker, on_stop=[built.close])
        await runner.start()
        assert [t.name for t in threading.enumerate()].count("horizon-worker") == 1
        built.store.queue.record_inbound(inbound("SM" + "4" * 32, USER, "¿hay mesa?", time.time()))
        await asyncio.to_thread(runner.notify, "pizzeria-roma", USER)  # from a plain thread
        deadline = time.monotonic() + 10
        while not await asyncio.to_thread(replies) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await runner.stop()
        return [t.name for t in threading.enumerate()]

    threads = asyncio.run(run())

    [reply] = replies()
    assert "¿hay mesa?" in reply
    assert "horizon-worker" not in threads
