"""Sending a reply exactly once: after an ambiguous failure, and after a crash mid-reply."""

from __future__ import annotations

import asyncio
import threading

import pytest

from horizon.vendors.retry import RetryPolicy

from .conftest import ROMA, inbound

ANA = "+34600000001"
SID = "SM" + "a" * 32
PATIENT = RetryPolicy(attempts=8, base_delay=0.05, max_delay=0.3, budget=20.0)


def sent_to(sandbox, user: str = ANA) -> list[str]:
    sent = sandbox.messages(direction="outbound-api")
    return [m["body"] for m in sent if m["to"] == f"whatsapp:{user}"]


def answer_one(pipeline, body: str = "¿Abrís hoy?", **options) -> object:
    async def turn():
        built = pipeline(**options)
        try:
            built.store.queue.record_inbound(inbound(SID, ANA, body, 0.0))
            await built.answer(built.store.queue.pending_work("pizzeria-roma", ANA))
            return built.store.find_messages(direction="outbound")
        finally:
            await built.close()

    return asyncio.run(turn())


def test_a_part_whose_answer_was_lost_is_found_not_sent_again(sandbox, pipeline):
    sandbox.inbound(ANA, ROMA, "hola")  # opens WhatsApp's 24-hour window
    # The first create goes out and its answer is lost; the look that follows is served.
    sandbox.faults(
        phase="after", fail_rate=0.5, seed=1, retry_after=0,
        paths=["/2010-04-01/Accounts/"],
    )  # fmt: skip

    recorded = answer_one(pipeline)

    assert len(sent_to(sandbox)) == 1
    [part] = recorded
    assert part["sid"] == sandbox.messages(direction="outbound-api")[0]["sid"]


def test_a_dropped_connection_after_sending_does_not_send_twice(sandbox, pipeline):
    sandbox.inbound(ANA, ROMA, "hola")
    sandbox.faults(
        phase="after", drop=True, fail_rate=0.5, seed=1, retry_after=0,
        paths=["/2010-04-01/Accounts/"],
    )  # fmt: skip

    answer_one(pipeline)

    assert len(sent_to(sandbox)) == 1


def test_twilio_answering_after_the_client_timeout_still_sends_once(sandbox, pipeline):
    sandbox.inbound(ANA, ROMA, "hola")
    sandbox.faults(phase="after", latency_ms=1500, paths=["/2010-04-01/Accounts/"])
    threading.Timer(2.5, lambda: sandbox.faults(latency_ms=0)).start()  # Twilio recovers

    recorded = answer_one(pipeline, twilio_timeout=1.0, policy=PATIENT)

    assert len(sent_to(sandbox)) == 1
    assert [part["status"] for part in recorded] != []


def test_twilio_slow_for_longer_than_the_budget_still_never_sends_twice(sandbox, pipeline):
    sandbox.inbound(ANA, ROMA, "hola")
    sandbox.faults(phase="after", latency_ms=1200, paths=["/2010-04-01/Accounts/"])
    quick_budget = RetryPolicy(attempts=8, base_delay=0.05, max_delay=0.2, budget=4.0)

    recorded = answer_one(pipeline, twilio_timeout=0.5, policy=quick_budget)

    sandbox.faults(latency_ms=0)
    assert recorded == []  # never confirmed, so never recorded as sent
    assert len(sent_to(sandbox)) == 1  # but it went out, once


class Crash(Exception):
    """The process dies here: nothing after this point runs."""


def test_a_turn_resumed_after_a_crash_mid_reply_sends_no_part_twice(sandbox, pipeline):
    sandbox.inbound(ANA, ROMA, "hola")
    long_question = " ".join(f"Pregunta número {i} sobre la carta." for i in range(120))

    async def crash_then_resume() -> list[str]:
        built = pipeline()
        try:
            built.store.queue.record_inbound(inbound(SID, ANA, long_question, 0.0))
            items = built.store.queue.pending_work("pizzeria-roma", ANA)
            record = built.async_store.replies.record_part_sent

            async def dies_after_sending_part_2(turn, part, *args, **kwargs):
                if part == 2:
                    raise Crash  # Twilio has part 2; the store never hears of it
                await record(turn, part, *args, **kwargs)

            built.async_store.replies.record_part_sent = dies_after_sending_part_2
            with pytest.raises(Crash):
                await built.answer(items)
            built.async_store.replies.record_part_sent = record
            resumed = built.store.queue.pending_work("pizzeria-roma", ANA)
            await built.turns.run(resumed, resumed[0].turn_id)
            return [m["body"] for m in built.store.find_messages(direction="outbound")]
        finally:
            await built.close()

    recorded = asyncio.run(crash_then_resume())

    sent = sent_to(sandbox)
    assert len(recorded) == 3
    assert sent == recorded  # each part once, in order
