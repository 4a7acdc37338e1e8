"""Benchmark the webhook: `horizon serve` and `horizon sandbox` as processes, model latency 2 s.

Phase 1 sends signed inbound messages at a steady rate (default 200 msg/s, each from a new
user) and reports acknowledgement latency p50/p99 and the sustained rate acknowledged.
Phase 2 sends 1,000 messages from 1,000 new users at once and reports the time until
every conversation is answered. Both phases count lost (unanswered) and duplicated replies.
Targets: ack p99 < 25 ms at 200 msg/s; 1,000 conversations answered in < 15 s; 0 lost, 0 dup.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import httpx
from twilio.request_validator import RequestValidator
from twilio.rest.messaging.v2.channels_sender import ChannelsSenderList

from horizon.endpoints import inbound_url
from horizon.sandbox import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, SANDBOX_OPENAI_KEY
from horizon.settings import Settings
from horizon.vendors.twilio_sdk import twilio_client

NUMBER = "+34910000101"
CLIENT = """\
name: Bench Shop
number: "+34910000101"
assistant:
  instructions: You are the assistant of Bench Shop.
limits:
  user_messages_per_hour: 1000
  monthly_budget_usd: 100000
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not start")


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "horizon", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class Sender:
    """Posts inbound messages to the webhook, signed as Twilio signs them.

    Requests are built and signed before the clock starts and sent through aiohttp, whose
    connection pool costs little per request, so the figures measure the webhook.
    """

    def __init__(self, webhook: str, connections: int = 256) -> None:
        self.url = inbound_url(webhook)
        self.validator = RequestValidator(SANDBOX_AUTH_TOKEN)
        self.connections = connections
        self.http: aiohttp.ClientSession | None = None
        self.resent = 0

    def sign(self, user: str, body: str) -> tuple[bytes, dict[str, str]]:
        """The form body and headers of one inbound message, as Twilio would send it."""
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": SANDBOX_ACCOUNT_SID,
            "From": f"whatsapp:{user}",
            "To": f"whatsapp:{NUMBER}",
            "Body": body,
            "NumMedia": "0",
        }
        headers = {
            "X-Twilio-Signature": self.validator.compute_signature(self.url, params),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        return urlencode(params).encode(), headers

    async def __aenter__(self) -> Sender:
        connector = aiohttp.TCPConnector(limit=self.connections, force_close=False)
        timeout = aiohttp.ClientTimeout(total=60)
        self.http = aiohttp.ClientSession(connector=connector, timeout=timeout, trust_env=False)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.http is not None
        await self.http.close()

    async def post(self, signed: tuple[bytes, dict[str, str]]) -> float:
        """Send one pre-signed message; the seconds until the webhook answered."""
        assert self.http is not None
        body, headers = signed
        started = time.perf_counter()
        try:
            status, text = await self._send(body, headers)
        except aiohttp.ClientConnectionError:  # a kept-alive connection closed: resend, as Twilio
            self.resent += 1
            status, text = await self._send(body, headers)
        elapsed = time.perf_counter() - started
        if status != 200:
            raise SystemExit(f"webhook answered {status}: {text}")
        return elapsed

    async def _send(self, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        assert self.http is not None
        async with self.http.post(self.url, data=body, headers=headers) as response:
            return response.status, await response.text()


async def steady(
    sender: Sender, rate: float, seconds: float, prefix: str
) -> tuple[list[float], float, float]:
    """Send `rate` msg/s for `seconds`; (ack latencies, achieved rate, first send's time).

    The achieved rate is messages acknowledged per second from the first send to the last
    acknowledgement: below the requested rate when the webhook (or this client) fell behind.
    """
    total = int(rate * seconds)
    signed = [sender.sign(f"{prefix}{n:05d}", f"message {n}") for n in range(total)]
    start_at = time.perf_counter() + 0.05

    async def one(n: int) -> float:
        await asyncio.sleep(max(0.0, start_at + n / rate - time.perf_counter()))
        return await sender.post(signed[n])

    latencies = await asyncio.gather(*(one(n) for n in range(total)))
    return list(latencies), total / (time.perf_counter() - start_at), start_at


async def burst(sender: Sender, count: int, prefix: str) -> tuple[list[float], float, float]:
    """Send `count` messages from as many users at once; (ack latencies, start, last ack)."""
    signed = [sender.sign(f"{prefix}{n:05d}", "hi") for n in range(count)]
    started = time.perf_counter()
    latencies = await asyncio.gather(*(sender.post(one) for one in signed))
    return list(latencies), started, time.perf_counter()


SEND_ROUTE = "POST /2010-04-01/Accounts/{AccountSid}/Messages.json"


def answered(sandbox: str, prefix: str) -> Counter:
    """Replies sent to users whose number starts with `prefix`, counted by user."""
    url = f"{sandbox}/__sandbox__/messages?direction=outbound-api"
    messages = httpx.get(url, timeout=30).json()["messages"]
    return Counter(m["to"] for m in messages if m["to"].startswith(f"whatsapp:{prefix}"))


def sends(sandbox: str) -> int:
    """Messages API calls the sandbox has received: a cheap poll, unlike listing messages."""
    counts = httpx.get(f"{sandbox}/__sandbox__/requests", timeout=30).json()["by_route"]
    return counts.get(SEND_ROUTE, 0)


def wait_answered(
    sandbox: str, prefix: str, expected: int, since: float, limit: float, sent_before: int
) -> tuple:
    """(seconds from `since` until all answered or the limit, lost, duplicated)."""
    while time.perf_counter() - since <= limit:
        if sends(sandbox) - sent_before >= expected and len(answered(sandbox, prefix)) >= expected:
            break
        time.sleep(0.1)
    elapsed = time.perf_counter() - since
    time.sleep(2.0)  # late duplicates would show up now
    replies = answered(sandbox, prefix)
    return elapsed, expected - len(replies), sum(n - 1 for n in replies.values() if n > 1)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary(latencies: list[float]) -> str:
    return (
        f"p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--model-latency-ms", type=float, default=2000.0)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="horizon-bench-"))
    (work / "clients").mkdir()
    (work / "clients" / "bench-shop.yaml").write_text(CLIENT)
    sandbox_port, webhook_port = free_port(), free_port()
    sandbox, webhook = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{webhook_port}"
    env = {
        **os.environ,
        "TWILIO_API_BASE": sandbox,
        "OPENAI_BASE_URL": f"{sandbox}/v1",
        "TWILIO_ACCOUNT_SID": SANDBOX_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": SANDBOX_AUTH_TOKEN,
        "OPENAI_API_KEY": SANDBOX_OPENAI_KEY,
        "HORIZON_PUBLIC_URL": webhook,
        "HORIZON_CLIENTS_DIR": str(work / "clients"),
        "HORIZON_DATABASE_URL": f"sqlite:///{work}/horizon.db",
    }
    processes = [start(["sandbox", "--port", str(sandbox_port), "--sender-online-after", "0"], env)]
    try:
        wait_ready(f"{sandbox}/__sandbox__/requests", processes[0])
        settings = Settings(_env_file=None, **{k: v for k, v in env.items() if k.isupper()})
        request = ChannelsSenderList.MessagingV2ChannelsSenderRequestsCreate(
            {
                "sender_id": f"whatsapp:{NUMBER}",
                "profile": {"name": "Bench Shop"},
                "webhook": {"callback_url": inbound_url(webhook)},
            }
        )
        twilio_client(settings).messaging.v2.channels_senders.create(request)
        httpx.post(
            f"{sandbox}/__sandbox__/faults",
            json={"latency_ms": args.model_latency_ms, "paths": ["/v1/responses"]},
        )
        processes.append(start(["serve", "--port", str(webhook_port)], env))
        wait_ready(f"{webhook}/healthz", processes[1])
        run_phases(args, sandbox, webhook)
    finally:
        stop(processes)


def stop(processes: list[subprocess.Popen]) -> None:
    """Terminate every process, then kill whichever has not exited within 10 s."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_phases(args: argparse.Namespace, sandbox: str, webhook: str) -> None:
    print(f"model latency {args.model_latency_ms:.0f} ms, {os.cpu_count()} CPUs")

    async def phase_one():
        async with Sender(webhook) as sender:
            return await steady(sender, args.rate, args.seconds, "+3460")

    sent_before = sends(sandbox)
    latencies, achieved, started = asyncio.run(phase_one())
    expected = len(latencies)
    elapsed, lost, dup = wait_answered(sandbox, "+3460", expected, started, 120, sent_before)
    print(
        f"steady: requested {args.rate:.0f} msg/s for {args.seconds:.0f} s ({expected} messages), "
        f"achieved {achieved:.1f} msg/s"
    )
    print(f"  ack latency {summary(latencies)}")
    print(
        f"  all answered {elapsed:.1f} s after the first message "
        f"({expected / elapsed:.1f} answers/s); lost {lost}, duplicated {dup}"
    )

    async def phase_two():
        async with Sender(webhook, connections=args.conversations) as sender:
            return await burst(sender, args.conversations, "+3470")

    sent_before = sends(sandbox)
    burst_latencies, started, acked = asyncio.run(phase_two())
    elapsed, lost, dup = wait_answered(
        sandbox, "+3470", args.conversations, started, 120, sent_before
    )
    print(
        f"burst: {args.conversations} conversations at once, all acknowledged in "
        f"{acked - started:.2f} s"
    )
    print(f"  ack latency {summary(burst_latencies)}")
    print(f"  all answered in {elapsed:.1f} s; lost {lost}, duplicated {dup}")


if __name__ == "__main__":
    main()
