"""The reply worker: scheduling turns per (client, user), failures, stopping."""

from __future__ import annotations

import asyncio
import time

from horizon.worker.reply_worker import ReplyWorker, WorkerOptions

from .conftest import inbound

USER = "+34600000001"
FALLBACK = "Lo siento, ahora no puedo responder."


async def wait_until(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(condition):
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not hold in time")
        await asyncio.sleep(0.05)


def inbound_statuses(store) -> list[str]:
    return [m["status"] for m in store.find_messages(direction="inbound")]


def test_a_turn_that_keeps_failing_gets_the_fallback_and_the_pair_moves_on(
    sandbox, pipeline, webhook_receiver
):
    # OpenAI behind a broken proxy: every call answers 200 with a body that is not JSON.
    options = WorkerOptions(coalesce_window=0, retry_failed_pair_after=0.05, max_attempts=3)

    def replies() -> list[str]:
        return [m["body"] for m in sandbox.messages(direction="outbound-api")]

    statuses: list[str] = []

    async def run() -> None:
        built = pipeline(openai_base_url=f"{webhook_receiver.url}/v1")
        worker = ReplyWorker(built.async_store, built.turns, built.metrics, options)
        built.store.queue.record_inbound(inbound("SM" + "1" * 32, USER, "¿hay mesa?", time.time()))
        built.store.queue.record_inbound(inbound("SM" + "2" * 32, USER, "BAJA", time.time()))
        try:
            await worker.start()
            await wait_until(lambda: len(replies()) >= 2)
            # The sandbox has the reply as soon as Twilio's API answered it; the turn is
            # finished in the store a moment later.
            await wait_until(lambda: "queued" not in inbound_statuses(built.store))
            statuses.extend(inbound_statuses(built.store))
        finally:
            await worker.stop()
            await built.close()

    asyncio.run(run())

    fallback, confirmation = replies()
    assert fallback == FALLBACK
    assert "ALTA" in confirmation  # the next message was answered, not blocked behind
    assert statuses == ["failed", "answered"]
    tried = [r for r in webhook_receiver.received if r.path == "/v1/conversations"]
    assert len(tried) == 3


def test_a_dead_workers_turn_is_taken_over_once_its_lease_expires(sandbox, pipeline):
    options = WorkerOptions(coalesce_window=0, sweep_interval=0.1)
    answered_at: list[float] = []

    def replies() -> list[str]:
        return [m["body"] for m in sandbox.messages(direction="outbound-api")]

    async def run() -> None:
        built = pipeline()
        worker = ReplyWorker(built.async_store, built.turns, built.metrics, options)
        built.store.queue.record_inbound(inbound("SM" + "3" * 32, USER, "¿hay mesa?", time.time()))
        [item] = built.store.queue.pending_work("pizzeria-roma", USER)
        built.store.queue.start_turn("pizzeria-roma", USER, [item.id], owner="dead", lease=1.0)
        claimed_at = time.time()
        try:
            await worker.start()
            await wait_until(lambda: replies())
            answered_at.append(time.time() - claimed_at)
            await asyncio.sleep(0.3)  # a second answer, were there one, would be out by now
        finally:
            await worker.stop()
            await built.close()

    asyncio.run(run())

    [reply] = replies()
    assert "¿hay mesa?" in reply
    assert answered_at[0] >= 1.0  # not before the dead worker's lease ran out
