"""Webhook signatures: the sandbox signs exactly as Twilio does, so RequestValidator agrees."""

from __future__ import annotations

import asyncio

from twilio.request_validator import RequestValidator

from horizon.sandbox.delivery import Delivery, twilio_signature


def deliver(url: str, params: dict[str, str], method: str):
    async def send():
        delivery = Delivery("token", timeout=5)
        try:
            return await delivery.send(url, params, method)
        finally:
            await delivery.close()

    return asyncio.run(send())


def test_signature_matches_twilios_request_validator():
    url = "https://bots.example.com:8443/twilio/inbound?client=roma"
    params = {"Body": "¿hola? ñ & =", "From": "whatsapp:+34600000001", "NumMedia": "0"}

    signature = twilio_signature("token", url, params)

    assert RequestValidator("token").validate(url, params, signature)
    assert not RequestValidator("other").validate(url, params, signature)


def test_get_webhook_carries_params_in_the_query_and_signs_the_full_url(webhook_receiver):
    result = deliver(f"{webhook_receiver.url}/hook", {"Body": "hola ñ", "From": "+1"}, "GET")

    [request] = webhook_receiver.wait_for(1)
    assert result.status == 200 and request.method == "GET"
    assert request.form == {"Body": "hola ñ", "From": "+1"}
    full_url = f"{webhook_receiver.url}{request.path}"
    assert RequestValidator("token").validate(full_url, {}, request.headers["X-Twilio-Signature"])


def test_unreachable_webhook_is_reported_not_raised():
    result = deliver("http://127.0.0.1:9/hook", {"A": "1"}, "POST")
    assert (result.status, result.ok) == (0, False)
    assert "ClientConnectorError" in result.error
