"""The sandbox's request recorder: it sees each vendor request whole and leaves it intact."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

import httpx

from horizon.sandbox.options import SandboxOptions
from horizon.sandbox.recorder import RecordedRequest, RequestRecorder
from horizon.sandbox.server import start_in_thread
from horizon.settings import Settings
from horizon.vendors.twilio_sdk import twilio_client


async def echo(scope, receive, send) -> None:
    """An ASGI app that answers 201 with the body it read."""
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": body})


def serve(app, path: str, chunks: list[bytes]) -> tuple[list[RecordedRequest], list[dict]]:
    """One HTTP request to `app` whose body arrives in `chunks`; what was recorded and sent."""
    recorded: list[RecordedRequest] = []
    sent: list[dict] = []
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "query_string": b"a=1&b=2",
        "headers": [(b"content-type", b"application/x-www-form-urlencoded")],
    }
    incoming = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]

    async def receive() -> dict:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(RequestRecorder(app, recorded.append)(scope, receive, send))
    return recorded, sent


def test_a_body_sent_in_chunks_is_recorded_whole_and_replayed_intact():
    recorded, sent = serve(echo, "/v1/files", [b"To=%2B34", b"600&Body=hola", b""])

    assert recorded == [
        RecordedRequest(
            method="POST",
            path="/v1/files",
            query="a=1&b=2",
            content_type="application/x-www-form-urlencoded",
            body=b"To=%2B34600&Body=hola",
            status=201,
        )
    ]
    assert sent[-1]["body"] == b"To=%2B34600&Body=hola"


def test_the_control_api_is_not_recorded():
    recorded, sent = serve(echo, "/__sandbox__/inbound", [b"{}"])

    assert recorded == []
    assert sent[0]["status"] == 201


def test_a_sandbox_with_an_observer_records_what_the_sdk_sent():
    recorded: list[RecordedRequest] = []
    with start_in_thread(SandboxOptions(), observer=recorded.append) as running:
        seed = {"numbers": ["+14155550100"]}
        httpx.post(f"{running.url}/__sandbox__/numbers", json=seed, trust_env=False)
        twilio = twilio_client(Settings(_env_file=None, **running.env()), max_retries=0)
        [number] = twilio.incoming_phone_numbers.list()
        number.update(sms_url="https://bots.example.com/twilio/inbound")
        fetched = twilio.incoming_phone_numbers(number.sid).fetch()

    assert fetched.sms_url == "https://bots.example.com/twilio/inbound"
    assert [(r.method, r.status) for r in recorded] == [("GET", 200), ("POST", 200), ("GET", 200)]
    assert dict(parse_qsl(recorded[1].body.decode())) == {
        "SmsUrl": "https://bots.example.com/twilio/inbound"
    }
