"""A webhook on a background thread answering through the test's sandbox, on a given database,
for the tests of the operations commands that read what it stored."""

from __future__ import annotations

import time
from pathlib import Path

from horizon.config.loader import load_fleet
from horizon.webhook.server import RunningWebhook, start_in_thread
from horizon.worker.reply_worker import WorkerOptions


def start_webhook(sandbox, clients_dir: Path, database_url: str) -> RunningWebhook:
    """The webhook on `database_url`, every client's sender pointed at it in the sandbox."""
    settings = sandbox.settings(
        HORIZON_CLIENTS_DIR=str(clients_dir), HORIZON_DATABASE_URL=database_url
    )
    running = start_in_thread(settings, options=WorkerOptions(coalesce_window=0.05))
    numbers = [client.number for client in load_fleet(clients_dir).fleet]
    sandbox.add_senders(numbers, f"{running.url}/twilio/inbound")
    return running


def env_for(sandbox, running: RunningWebhook, clients_dir: Path, database_url: str) -> dict:
    """The environment an operator's shell would have: the webhook's settings."""
    return {
        **sandbox.env(),
        "HORIZON_PUBLIC_URL": running.public_url,
        "HORIZON_CLIENTS_DIR": str(clients_dir),
        "HORIZON_DATABASE_URL": database_url,
    }


def answered(running: RunningWebhook, count: int, timeout: float = 20.0) -> list[dict]:
    """Wait until `count` inbound messages are stored and none is queued; all messages then."""
    store = running.webhook.store.store
    deadline = time.monotonic() + timeout
    while True:
        inbound = store.find_messages(direction="inbound")
        if len(inbound) >= count and all(m["status"] != "queued" for m in inbound):
            return store.find_messages()
        if time.monotonic() > deadline:
            raise AssertionError(f"{count} messages not answered in {timeout} s: {inbound}")
        time.sleep(0.05)
