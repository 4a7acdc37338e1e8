"""Benchmark `horizon logs --follow` on a large store while messages keep arriving.

First it times the log's reads on the full store (newest messages, by client, user, time
window and grep), then the follower.

The store is filled with 1,000,000 messages of 500 clients over 90 days (a bulk insert),
then `horizon logs --follow --output json` runs as a process while this one stores 200
messages a second, in small batches as the webhook commits them. For each message it
reports the time from its commit to its line reaching the reader: median, p95 and max,
and how many never arrived. Target: every message shown within 1 s.

    .venv/bin/python bench/ops_follow.py                              # SQLite
    .venv/bin/python bench/ops_follow.py --postgres postgresql://…    # and PostgreSQL
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from horizon.queries.logs import LogQuery, recent, window
from horizon.store import InboundMessage, Store
from horizon.store.schema import messages as messages_table

CHUNK = 20_000
TICK = 0.02  # the inserter commits what is due every 20 ms, as the webhook's store thread batches


def populate(url: str, clients: int = 500, messages: int = 1_000_000, days: int = 90) -> None:
    """Fill the store at `url` with `messages` messages, half of them replies, spread
    over the last `days` days across `clients` clients (a stand-in for bench/ops.py's)."""
    store = Store.open(url)
    rng = random.Random(12)
    now = time.time()
    start = now - days * 86400
    step = (now - 60 - start) / messages
    with store.engine.begin() as connection:
        for first in range(0, messages, CHUNK):
            rows = [
                _row(n, start + n * step, clients, rng)
                for n in range(first, min(first + CHUNK, messages))
            ]
            connection.execute(messages_table.insert(), rows)
    store.close()


def _row(n: int, at: float, clients: int, rng: random.Random) -> dict:
    client = n // 2 % clients
    user = f"+3460{rng.randrange(10_000_000):07d}" if n % 2 == 0 else "+34600000000"
    inbound = n % 2 == 0
    return {
        "sid": f"SM{n:032x}",
        "direction": "inbound" if inbound else "outbound",
        "client_id": f"client-{client:04d}",
        "user_number": user,
        "client_number": f"+3491{client:07d}",
        "channel": "whatsapp",
        "body": f"message {n} " + "lorem ipsum " * rng.randrange(1, 12),
        "status": "answered" if inbound else "delivered",
        "created_at": at,
        "updated_at": at + 2,
        "answered_at": at + 2 if inbound else None,
    }


def _read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put((time.monotonic(), line))


def follow(url: str, rate: float, seconds: float) -> list[float | None]:
    """Run the follower while storing `rate` messages a second for `seconds`; each message's
    delay from commit to its line (None: never shown)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "horizon", "logs", "--follow", "--output", "json", "-n", "1"],
        env={**os.environ, "HORIZON_DATABASE_URL": url},
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    lines.get(timeout=60)  # the backlog's one line: the follower is running
    committed = _store_at_rate(url, rate, seconds)
    shown: dict[str, float] = {}
    deadline = time.monotonic() + 5
    while len(shown) < len(committed) and time.monotonic() < deadline:
        try:
            arrived, line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        shown[json.loads(line)["sid"]] = arrived
    process.send_signal(signal.SIGINT)
    process.wait(timeout=10)
    return [shown[sid] - at if sid in shown else None for sid, at in committed.items()]


def _store_at_rate(url: str, rate: float, seconds: float) -> dict[str, float]:
    store = Store.open(url)
    committed: dict[str, float] = {}
    begun, sent = time.monotonic(), 0
    while (elapsed := time.monotonic() - begun) < seconds:
        due = int(elapsed * rate) - sent
        batch = [_new_message(sent + i) for i in range(due)]
        if batch:
            store.queue.record_inbound_many(batch)
            done = time.monotonic()
            committed.update((message.sid, done) for message in batch)
            sent += due
        time.sleep(TICK)
    store.close()
    return committed


def _new_message(n: int) -> InboundMessage:
    client = n % 500
    return InboundMessage(
        sid="SM" + uuid.uuid4().hex,
        user_number=f"+3461{n:07d}",
        client_number=f"+3491{client:07d}",
        channel="whatsapp",
        body=f"new message {n}",
        client_id=f"client-{client:04d}",
    )


def time_reads(name: str, url: str) -> None:
    """How long the log's reads without --follow take on the full store (the median of 3)."""
    store = Store.open(url)
    hour_ago = time.time() - 3600
    reads = {
        "newest 100": lambda: recent(store, LogQuery(), 100),
        "--client, newest 100": lambda: recent(store, LogQuery(client_id="client-0007"), 100),
        "--user, newest 100": lambda: recent(store, LogQuery(user_number="+34600000000"), 100),
        "--since 1h (all)": lambda: list(window(store, LogQuery(since=hour_ago))),
        "--client --since 30d (all)": lambda: list(
            window(store, LogQuery(client_id="client-0007", since=time.time() - 30 * 86400))
        ),
        "--grep, newest 100": lambda: recent(store, LogQuery(grep="IPSUM lorem"), 100),
        "--grep, a rare word": lambda: recent(store, LogQuery(grep="message 123456 "), 100),
    }
    for label, read in reads.items():
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            rows = read()
            timings.append(time.perf_counter() - started)
        print(f"{name}: {label}: {len(rows)} rows in {statistics.median(timings) * 1000:.0f} ms")
    store.close()


def report(name: str, url: str, args: argparse.Namespace) -> None:
    started = time.monotonic()
    populate(url, args.clients, args.messages, args.days)
    print(f"{name}: {args.messages:,} messages stored in {time.monotonic() - started:.0f} s")
    time_reads(name, url)
    delays = follow(url, args.rate, args.seconds)
    seen = sorted(delay for delay in delays if delay is not None)
    p95 = seen[max(0, int(len(seen) * 0.95) - 1)] if seen else float("nan")
    print(
        f"{name}: {len(delays)} messages at {args.rate:g}/s, commit → line: "
        f"median {statistics.median(seen) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {seen[-1] * 1000:.0f} ms; {len(delays) - len(seen)} never shown "
        f"(target: all under 1000 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL server")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--rate", type=float, default=200.0, help="messages stored per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long they arrive")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        report("SQLite", f"sqlite:///{Path(directory) / 'horizon.db'}", args)
    if args.postgres:
        from ops import postgres_schema  # bench/ops.py's (it imports this module: not at top)

        url, drop = postgres_schema(args.postgres)
        try:
            report("PostgreSQL", url, args)
        finally:
            drop()


if __name__ == "__main__":
    main()
