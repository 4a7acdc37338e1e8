"""Webhook signatures: the sandbox signs exactly as Twilio does, so RequestValidator agrees."""

from __future__ import annotations

import asyncio

from twilio.request_validator import RequestValidator

from horizon.sandbox.delivery import Delivery, twilio_signature


def test_signature_matches_twilios_request_validator():
    url = "https://bots.example.com:8443/twilio/inbound?client=roma"
    params = {"Body": "¿hola? ñ & =", "From": "whatsapp:+34600000001", "NumMedia": "0"}

    signature = twilio_signature("token", url, params)

    assert RequestValidator("token").validate(url, params, signature)
    assert not RequestValidator("other").validate(url, params, signature)


def test_get_webhook_signs_the_url_with_its_query(webhook_receiver):
    received: list = []

    async def deliver() -> None:
        delivery = Delivery("token", timeout=5)
        received.append(await delivery.send("http://127.0.0.1:9/x", {"A": "1"}, "GET"))
        await delivery.close()

    asyncio.run(deliver())

    [result] = received
    assert result.status == 0 and result.error  # nothing listens on port 9
