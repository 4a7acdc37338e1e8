"""Turns run for real against the sandbox: what the user gets, what is stored, what is logged."""

from __future__ import annotations

import asyncio
import json
import logging

from horizon.telemetry.logs import JsonLineFormatter

from .conftest import inbound


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
