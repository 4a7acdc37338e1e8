"""`horizon serve` as a real process: killed with SIGKILL mid-work, restarted, nothing lost;
under a slowloris with few file descriptors, still acknowledging Twilio."""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from .slow_clients import SlowClients, enough_open_files
from .test_end_to_end import replies

ROMA = "+34910000101"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_serve(
    env: dict[str, str], port: int, open_files: int | None = None, stderr=subprocess.PIPE
) -> subprocess.Popen:
    """`horizon serve` on `port`, once ready; `open_files` sets its `ulimit -n`."""

    def limit_open_files() -> None:
        if open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    process = subprocess.Popen(
        [sys.executable, "-m", "horizon", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        preexec_fn=limit_open_files,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(process.stderr.read().decode()[-2000:] if process.stderr else "not ready")


@pytest.fixture
def serve_env(sandbox, clients_dir, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        **sandbox.env(),
        "HORIZON_CLIENTS_DIR": str(clients_dir),
        "HORIZON_DATABASE_URL": f"sqlite:///{tmp_path}/horizon.db",
        "HORIZON_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    sandbox.add_senders([ROMA], f"http://127.0.0.1:{port}/twilio/inbound")
    return env, port


def test_kill_9_with_50_messages_in_flight_then_restart_answers_every_message(sandbox, serve_env):
    env, port = serve_env
    sandbox.faults(latency_ms=400, paths=["/v1/responses"])
    first = start_serve(env, port)
    users = [f"+3461000{n:04d}" for n in range(50)]
    with ThreadPoolExecutor(8) as pool:
        acks = list(pool.map(lambda u: sandbox.inbound(u, ROMA, f"pedido de {u}"), users))
    assert all(ack["webhook"]["status"] == 200 for ack in acks)
    first.send_signal(signal.SIGKILL)
    first.wait(5)
    answered_before = len(replies(sandbox))
    assert answered_before < len(users)  # the kill really caught work in flight

    second = start_serve(env, port)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            answered = {r["to"] for r in replies(sandbox)}
            if len(answered) == len(users):
                break
            time.sleep(0.1)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(10)
    by_user: dict[str, list[str]] = {}
    for reply in replies(sandbox):
        by_user.setdefault(reply["to"].removeprefix("whatsapp:"), []).append(reply["body"])
    assert sorted(by_user) == sorted(users)
    for user, bodies in by_user.items():
        assert all(f"pedido de {user}" in body for body in bodies)
        assert len(bodies) == 1  # a turn cut short by the kill looks before it sends again
    assert second.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM after a clean stop


def test_kill_9_during_multi_part_replies_sends_no_part_twice(sandbox, serve_env):
    env, port = serve_env
    # Twilio takes each message, then holds its answer: a kill lands between the two.
    sandbox.faults(phase="after", latency_ms=300, paths=["/2010-04-01/Accounts/"])
    users = [f"+3462000{n:04d}" for n in range(12)]
    first = start_serve(env, port)
    for user in users:
        text = " ".join(f"Frase {n} de la consulta de {user}." for n in range(150))[:3900]
        sandbox.inbound(user, ROMA, text.strip())
    deadline = time.monotonic() + 30
    while len(replies(sandbox)) < 8 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(5)
    assert 0 < len(replies(sandbox)) < 3 * len(users)  # the kill caught parts in flight

    second = start_serve(env, port)
    try:
        deadline = time.monotonic() + 60
        while len(replies(sandbox)) < 3 * len(users) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # anything sent twice would arrive now
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(15)
    for user in users:
        bodies = [reply["body"] for reply in replies(sandbox, user)]
        assert len(bodies) == 3 and len(set(bodies)) == 3, user  # each part once
        assert bodies[0].startswith("Eres el asistente") and user in bodies[-1]


def test_sighup_reloads_the_config_and_counts_the_reload(sandbox, serve_env, clients_dir):
    env, port = serve_env
    process = start_serve(env, port)
    try:
        (clients_dir / "bar-nuevo.yaml").write_text(
            'name: Bar Nuevo\nnumber: "+34910000105"\nassistant:\n  instructions: Hola.\n'
        )
        process.send_signal(signal.SIGHUP)
        deadline, metrics = time.monotonic() + 15, ""
        while time.monotonic() < deadline:
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
            if 'horizon_config_reloads_total{result="applied"} 1.0' in metrics:
                break
            time.sleep(0.1)
        assert 'horizon_config_reloads_total{result="applied"} 1.0' in metrics
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").json()["clients"] == 5
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)


@pytest.mark.parametrize("idle", [False, True], ids=["trickling", "idle"])
def test_1100_slow_connections_under_ulimit_1024_leave_signed_requests_acknowledged(
    sandbox, serve_env, tmp_path, idle
):
    env, port = serve_env
    enough_open_files(1400)
    log = tmp_path / "serve.log"
    with log.open("wb") as stderr:
        process = start_serve(env, port, open_files=1024, stderr=stderr)
    try:
        with SlowClients(port, 1100, interval=0.5, idle=idle) as slow:
            slow.wait_opened(1100)
            acks = []
            for n in range(20):
                acks.append(sandbox.inbound(f"+3463000{n:04d}", ROMA, f"hola {n}"))
                time.sleep(0.1)
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            assert slow.dropped > 0  # the server shed slow connections to make room
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(15)
    assert [ack["webhook"]["status"] for ack in acks] == [200] * 20, acks
    assert 'horizon_connections_shed_total{reason="evicted"}' in metrics
    events = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    limits = next(event for event in events if event["event"] == "connection_limits")
    # Room is left below `ulimit -n` for the store, the vendor clients and the process.
    assert limits["open_files"] == 1024 and 16 <= limits["max_connections"] <= 1024 - 512
    shed = [event for event in events if event["event"] == "connections_shed"]
    assert shed and shed[0]["evicted"] > 0
    assert not [event for event in events if event["level"] == "error"]
