"""Serving: background-thread start and stop, and many concurrent clients served correctly."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from horizon.sandbox.server import start_in_thread


def test_started_sandbox_answers_and_stops(tmp_path):
    running = start_in_thread()
    url = running.url
    assert httpx.get(f"{url}/__sandbox__/health").json()["ok"] is True
    assert running.env()["OPENAI_BASE_URL"] == f"{url}/v1"

    running.stop()

    try:
        httpx.get(f"{url}/__sandbox__/health", timeout=1)
    except httpx.TransportError:
        return
    raise AssertionError("the sandbox still answers after stop()")


def test_many_parallel_requests_are_all_served_and_counted(sandbox):
    client = sandbox.openai()

    def create_and_list(index: int) -> str:
        store = client.vector_stores.create(name=f"store-{index}")
        return client.vector_stores.retrieve(store.id).name

    with ThreadPoolExecutor(16) as pool:
        names = list(pool.map(create_and_list, range(200)))

    assert sorted(names) == sorted(f"store-{i}" for i in range(200))
    assert len(list(client.vector_stores.list(limit=100))) == 200
    counts = sandbox.requests()["by_route"]
    assert counts["POST /v1/vector_stores"] == 200
    assert counts["GET /v1/vector_stores/{vector_store_id}"] == 200


def test_parallel_twilio_messages_keep_every_status_callback(sandbox, webhook_receiver):
    sandbox.seed_numbers("+14155550100")
    client = sandbox.twilio()

    def send(index: int) -> str:
        return client.messages.create(
            from_="+14155550100", to=f"+1415555{index:04d}", body=str(index),
            status_callback=webhook_receiver.url,
        ).sid  # fmt: skip

    with ThreadPoolExecutor(8) as pool:
        sids = set(pool.map(send, range(50)))

    received = webhook_receiver.wait_for(100, timeout=10)
    assert len(received) == 100
    assert {r.form["MessageSid"] for r in received} == sids
