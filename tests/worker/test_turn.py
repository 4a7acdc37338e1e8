"""Turns run for real against the sandbox: what the user gets, what is stored, what is logged."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from horizon.config.fleet import Fleet
from horizon.config.loader import load_fleet
from horizon.telemetry.logs import JsonLineFormatter

from .conftest import ROMA_CLIENT, inbound


@pytest.fixture
def fleet(tmp_path: Path, request: pytest.FixtureRequest) -> Fleet:
    """Pizzería Roma, with the assistant fields a test gives through `indirect` (if any)."""
    directory = tmp_path / "clients"
    directory.mkdir()
    text = ROMA_CLIENT + getattr(request, "param", "")
    (directory / "pizzeria-roma.yaml").write_text(text, encoding="utf-8")
    loaded = load_fleet(directory)
    assert loaded.ok, loaded.errors
    return loaded.fleet


def run_turn(pipeline, user: str, body: str, sid: str = "SM" + "1" * 32) -> None:
    async def turn() -> None:
        built = pipeline()
        try:
            built.store.queue.record_inbound(inbound(sid, user, body, 0.0))
            await built.answer(built.store.queue.pending_work("pizzeria-roma", user))
        finally:
            await built.close()

    asyncio.run(turn())


def test_a_refused_reply_is_logged_without_the_users_number(sandbox, pipeline, caplog):
    user = "+0346001234567"  # accepted by the webhook, refused by Twilio as a 'To' number
    with caplog.at_level(logging.INFO, logger="horizon"):
        run_turn(pipeline, user, "hola")

    lines = [JsonLineFormatter().format(record) for record in caplog.records]
    [failed] = [json.loads(line) for line in lines if '"send_failed"' in line]
    assert "Invalid 'To' Phone Number" in failed["error"]
    assert "whatsapp:+*********4567" in failed["error"]
    assert not [line for line in lines if "0346001234567" in line]


# gpt-5-mini at effort medium thinks for 256 tokens in the sandbox, before any text.
USED_UP = "  model: gpt-5-mini\n  reasoning_effort: medium\n  max_output_tokens: 200\n"
CUT_SHORT = "  model: gpt-5-mini\n  reasoning_effort: medium\n  max_output_tokens: 260\n"


@pytest.mark.parametrize("fleet", [USED_UP, CUT_SHORT], indirect=True, ids=["empty", "cut"])
def test_a_reply_cut_short_by_max_output_tokens_sends_the_fallback_instead(
    sandbox, pipeline, caplog
):
    user = "+34600000001"

    async def turn() -> tuple:
        built = pipeline()
        try:
            built.store.queue.record_inbound(inbound("SM" + "2" * 32, user, "hola", 0.0))
            [item] = built.store.queue.pending_work("pizzeria-roma", user)
            await built.answer([item])
            return built.metrics, built.store.users.usage_since("pizzeria-roma", 0.0)
        finally:
            await built.close()

    with caplog.at_level(logging.INFO, logger="horizon"):
        metrics, usage = asyncio.run(turn())

    sent = [message["body"] for message in sandbox.messages(direction="outbound-api")]
    assert sent == ["Lo siento, ahora no puedo responder."]
    lines = [json.loads(JsonLineFormatter().format(record)) for record in caplog.records]
    [incomplete] = [line for line in lines if line["event"] == "model_incomplete"]
    assert (incomplete["reason"], incomplete["level"]) == ("max_output_tokens", "warning")
    assert incomplete["reasoning_tokens"] == min(256, incomplete["output_tokens"])
    [done] = [line for line in lines if line["event"] == "turn_done"]
    assert (done["kind"], done["status"]) == ("fallback", "failed")
    counted = metrics.registry.get_sample_value
    labels = {"client": "pizzeria-roma"}
    assert counted("horizon_model_incomplete_total", {**labels, "reason": "max_output_tokens"}) == 1
    assert counted("horizon_replies_total", {**labels, "kind": "fallback"}) == 1
    assert counted("horizon_replies_total", {**labels, "kind": "answer"}) is None
    assert [(u.model, u.output_tokens) for u in usage] == [
        ("gpt-5-mini", incomplete["output_tokens"])
    ]
