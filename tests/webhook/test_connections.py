"""Connection limits: slow and idle connections are shed, oversized heads refused, and signed
requests still acknowledged with the webhook at its connection cap."""

from __future__ import annotations

import logging
import socket
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from horizon.webhook.connections import MAX_HEAD_BYTES, MIN_CONNECTIONS, connection_limits
from horizon.webhook.server import start_in_thread

from .slow_clients import HEAD, SlowClients
from .test_end_to_end import ROMA, eventually

SHED_METRIC = "horizon_connections_shed_total"


@pytest.fixture
def start_webhook(sandbox, clients_dir, tmp_path):
    """Start a webhook in this process with the given settings (by variable name)."""
    running = []

    def start(**settings: str):
        webhook = start_in_thread(
            sandbox.settings(
                HORIZON_CLIENTS_DIR=str(clients_dir),
                HORIZON_DATABASE_URL=f"sqlite:///{tmp_path}/h.db",
                **settings,
            )
        )
        running.append(webhook)
        sandbox.add_senders([ROMA], f"{webhook.url}/twilio/inbound")
        return webhook

    yield start
    for webhook in running:
        webhook.stop()


def connect(webhook) -> socket.socket:
    host, port = webhook.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed `sock` (reset or end of stream), read without waiting."""
    try:
        return sock.recv(4096, socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def shed(webhook, reason: str) -> float:
    text = httpx.get(f"{webhook.url}/metrics").text
    for line in text.splitlines():
        if line.startswith(f'{SHED_METRIC}{{reason="{reason}"}}'):
            return float(line.split()[-1])
    return 0.0


def test_a_head_trickled_past_the_request_timeout_is_closed_and_counted(start_webhook):
    webhook = start_webhook(HORIZON_REQUEST_TIMEOUT="1")
    slow = connect(webhook)
    slow.sendall(HEAD)
    started = time.monotonic()
    while not closed_by_server(slow):
        slow.send(b"x")  # progress does not buy time: the whole head is due within 1 s
        assert time.monotonic() - started < 5, "still open"
        time.sleep(0.1)
    assert 0.9 < time.monotonic() - started < 3
    assert shed(webhook, "request_timeout") == 1
    assert httpx.get(f"{webhook.url}/healthz").status_code == 200


def test_a_connection_that_sends_nothing_is_closed_after_the_request_timeout(start_webhook):
    webhook = start_webhook(HORIZON_REQUEST_TIMEOUT="1")
    silent = connect(webhook)
    eventually(lambda: closed_by_server(silent), timeout=5, what="the silent connection closed")
    assert shed(webhook, "request_timeout") == 1


def test_a_body_trickled_past_the_request_timeout_is_closed(start_webhook):
    webhook = start_webhook(HORIZON_REQUEST_TIMEOUT="1")
    slow = connect(webhook)
    slow.sendall(
        b"POST /twilio/inbound HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\nFrom="
    )
    eventually(lambda: closed_by_server(slow), timeout=5, what="the slow body's connection closed")
    assert shed(webhook, "request_timeout") == 1


def test_an_idle_keep_alive_connection_closes_after_the_keep_alive_timeout(start_webhook):
    webhook = start_webhook(HORIZON_KEEP_ALIVE_TIMEOUT="0.5")
    sock = connect(webhook)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    started = time.monotonic()
    eventually(lambda: closed_by_server(sock), timeout=5, what="the idle connection closed")
    assert time.monotonic() - started < 2


def test_a_request_head_over_64_kib_is_refused_with_431(start_webhook):
    webhook = start_webhook()
    sock = connect(webhook)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    header = b"X-Big: " + b"a" * 1000 + b"\r\n"
    try:
        for _ in range(MAX_HEAD_BYTES // len(header) + 2):
            sock.sendall(header)
    except (BrokenPipeError, ConnectionResetError):
        pass  # refused while still sending
    answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 431 ") or answer == b""
    eventually(lambda: closed_by_server(sock), timeout=5, what="the connection closed")
    assert shed(webhook, "head_too_large") == 1


def test_at_the_cap_the_oldest_slow_connections_make_room_for_signed_requests(
    start_webhook, sandbox, caplog
):
    caplog.set_level(logging.INFO, logger="horizon.events")
    webhook = start_webhook(HORIZON_MAX_CONNECTIONS="20")
    with SlowClients(int(webhook.url.rsplit(":", 1)[1]), 60, interval=0.2) as slow:
        slow.wait_opened(60)
        acks = [sandbox.inbound(f"+3464000{n:04d}", ROMA, f"hola {n}") for n in range(10)]
        eventually(lambda: slow.dropped >= 40, what="the oldest slow connections dropped")
    assert [ack["webhook"]["status"] for ack in acks] == [200] * 10
    assert shed(webhook, "evicted") >= 40
    assert shed(webhook, "refused") == 0
    events = [getattr(record, "horizon", {}) for record in caplog.records]
    [first, *_] = [event for event in events if event.get("event") == "connections_shed"]
    assert first["max_connections"] == 20 and first["evicted"] >= 1


def test_when_every_connection_is_busy_a_new_one_is_refused_with_503(
    start_webhook, sandbox, tmp_path
):
    webhook = start_webhook(HORIZON_MAX_CONNECTIONS=str(MIN_CONNECTIONS))
    guard = webhook._serving.server.guard  # read only, to know when all requests are in
    # Another writer holds the database: each inbound request waits for it, busy.
    holder = sqlite3.connect(tmp_path / "h.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    users = [f"+3465000{n:04d}" for n in range(MIN_CONNECTIONS)]
    with ThreadPoolExecutor(len(users)) as pool:
        pending = [pool.submit(sandbox.inbound, user, ROMA, "hola") for user in users]
        eventually(lambda: len(guard.busy) == MIN_CONNECTIONS, what="every request in")
        extra = connect(webhook)
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert extra.recv(4096).startswith(b"HTTP/1.1 503 ")
        holder.execute("ROLLBACK")
        acks = [future.result() for future in pending]
    assert [ack["webhook"]["status"] for ack in acks] == [200] * len(users)
    assert shed(webhook, "refused") == 1


@pytest.mark.parametrize(
    ("requested", "open_files", "cap"),
    [
        (1000, 1024, 1024 - 832 - 8),  # `ulimit -n` 1024: the rest of the process comes first
        (1000, 65536, 1000),  # a generous limit: the setting
        (1000, 512, MIN_CONNECTIONS),  # too few files for anything: the floor
        (50, 1024, 50),
    ],
)
def test_the_cap_leaves_room_below_the_open_file_limit(requested, open_files, cap):
    limits = connection_limits(requested, 10.0, 5.0, reserved_files=832, open_files=open_files)
    assert limits.max_connections == cap
