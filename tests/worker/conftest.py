"""Fixtures for the worker's tests: a real turn pipeline (store, model, Twilio) on the sandbox."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from horizon.config.fleet import Fleet
from horizon.config.loader import load_fleet
from horizon.store import AsyncStore, InboundMessage, Store, WorkItem
from horizon.telemetry.metrics import Metrics
from horizon.vendors.openai_sdk import async_openai_client, openai_client
from horizon.vendors.retry import RetryPolicy
from horizon.vendors.twilio_sdk import async_twilio_client
from horizon.vendors.vector_stores import vector_store_ids
from horizon.worker.messenger import Messenger
from horizon.worker.model import AssistantModel
from horizon.worker.turn import TurnRunner

ROMA = "+34910000101"
ROMA_CLIENT = """\
name: Pizzería Roma
number: "+34910000101"
assistant:
  instructions: Eres el asistente de Pizzería Roma.
  fallback_message: "Lo siento, ahora no puedo responder."
  memory_days: 7
"""
FAST_POLICY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05, budget=5.0)


class Clock:
    """A clock the test moves by hand: `clock.advance(days=8)`."""

    def __init__(self, now: float | None = None) -> None:
        self.now = now if now is not None else time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, *, days: float = 0.0, seconds: float = 0.0) -> None:
        self.now += days * 86400.0 + seconds


@dataclass
class Pipeline:
    """What a turn runs on, built for one asyncio loop; `close()` before the loop ends."""

    store: Store
    async_store: AsyncStore
    model: AssistantModel
    turns: TurnRunner
    metrics: Metrics
    _closers: list[Callable]

    async def answer(self, items: list[WorkItem]) -> None:
        """Run one turn for `items` (stored messages of one pair), as the worker would."""
        first = items[0]
        turn_id = self.store.queue.start_turn(
            first.client_id, first.user_number, [i.id for i in items]
        )
        await self.turns.run(items, turn_id)

    async def close(self) -> None:
        for close in self._closers:
            result = close()
            if asyncio.iscoroutine(result):
                await result


@pytest.fixture
def fleet(tmp_path: Path) -> Fleet:
    directory = tmp_path / "clients"
    directory.mkdir()
    (directory / "pizzeria-roma.yaml").write_text(ROMA_CLIENT, encoding="utf-8")
    return load_fleet(directory).fleet


@pytest.fixture
def pipeline(sandbox, fleet, tmp_path) -> Callable[..., Pipeline]:
    """`pipeline(clock=…)` inside a running loop: store, model, messenger and turn runner."""
    sandbox.add_senders([client.number for client in fleet])
    store = Store.open(f"sqlite:///{tmp_path}/horizon.db")
    settings = sandbox.settings()

    def build(
        clock: Callable[[], float] = time.time,
        openai_base_url: str | None = None,
        twilio_timeout: float = 20.0,
        policy: RetryPolicy = FAST_POLICY,
    ) -> Pipeline:
        """`openai_base_url` sends the model's calls elsewhere (a misbehaving proxy)."""
        store.db.clock = clock
        async_store = AsyncStore(store)
        model_settings = settings
        if openai_base_url:
            model_settings = sandbox.settings(OPENAI_BASE_URL=openai_base_url)
        openai = async_openai_client(model_settings, timeout=10, max_retries=0)
        knowledge = openai_client(settings, timeout=10, max_retries=0)
        twilio = async_twilio_client(settings, timeout=twilio_timeout)
        messenger = Messenger(twilio, None, policy)
        listing = functools.partial(vector_store_ids, knowledge, FAST_POLICY)
        model = AssistantModel(openai, async_store, FAST_POLICY, listing, clock=clock)
        metrics = Metrics()
        turns = TurnRunner(async_store, lambda: fleet, model, messenger, metrics)
        closers = [messenger.close, openai.close, knowledge.close]
        return Pipeline(store, async_store, model, turns, metrics, closers)

    yield build
    store.close()


def inbound(sid: str, user: str, body: str, received_at: float, to: str = ROMA) -> InboundMessage:
    return InboundMessage(
        sid=sid,
        user_number=user,
        client_number=to,
        channel="whatsapp",
        body=body,
        client_id="pizzeria-roma",
        received_at=received_at,
    )
