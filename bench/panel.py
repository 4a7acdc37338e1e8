"""Benchmark the operator panel's pages and JSON over HTTP on a big store.

Fills a SQLite file (and a PostgreSQL schema when --postgres URL or
HORIZON_TEST_POSTGRES_URL is given) with bench/ops.py's `populate`: 500 clients,
1,000,000 messages over 90 days; writes the 500 matching client files; starts the panel
over that store (no drift checker: there is no Twilio account to plan against), logs in,
then requests every page and every JSON endpoint `--requests` times, one at a time, and
prints p50 and p95. Target: every one under 200 ms at p95.

    .venv/bin/python bench/panel.py [--postgres URL] [--messages 1000000] [--requests 30]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from ops import populate, postgres_schema, write_clients_dir

from horizon.settings import Settings
from horizon.store.store import Store

TARGET_P95_MS = 200.0
DAY_AGO = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
TOKEN = "bench-panel-token-0123456789"
WARM_UP = 2


def targets(http: httpx.Client, client_id: str) -> dict[str, str]:
    """Every page and JSON endpoint, with a real client and conversation in the URLs."""
    listing = http.get("/conversations", params={"client": client_id})
    listing.raise_for_status()
    found = re.search(r'href="/conversations/([^"?#]+)"', listing.text)
    if found is None:
        raise SystemExit(f"no conversation of {client_id} listed on /conversations")
    thread = found.group(1)
    pages = {
        "fleet": "/",
        "client": f"/clients/{client_id}",
        "conversations": "/conversations",
        "conversations of a client": f"/conversations?client={client_id}",
        "conversations by text": "/conversations?text=esperamos",
        # A word no message has: every message of the 90 days is read (the worst case).
        "conversations by absent text": "/conversations?text=llevar",
        "conversations by text, a client": f"/conversations?client={client_id}&text=llevar",
        "conversations by user": f"/conversations?client={client_id}&user=0042",
        "conversations by date": f"/conversations?since={DAY_AGO}&until={DAY_AGO}",
        "thread": f"/conversations/{thread}",
        "system": "/system",
    }
    json = {
        f"{name} JSON": "/api" + (path if path != "/" else "/fleet") for name, path in pages.items()
    }
    return {**{f"{name} page": path for name, path in pages.items()}, **json}


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def time_requests(http: httpx.Client, path: str, requests: int) -> list[float]:
    for _ in range(WARM_UP):
        http.get(path).raise_for_status()
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        response = http.get(path)
        samples.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    return samples


def log_in(http: httpx.Client) -> None:
    response = http.post("/login", data={"token": TOKEN})
    if response.status_code >= 400 or not http.cookies:
        raise SystemExit(f"could not log in: {response.status_code} {response.text[:200]}")


def bench(url: str, label: str, messages: int, requests: int) -> list[str]:
    from horizon.panel.server import start_in_thread

    start = time.perf_counter()
    fleet = populate(url, messages=messages)
    took = time.perf_counter() - start
    print(f"{label}: {messages:,} messages of {len(fleet)} clients written in {took:.1f} s")
    misses = []
    with tempfile.TemporaryDirectory() as folder:
        clients_dir = write_clients_dir(Path(folder) / "clients", fleet)
        settings = Settings(
            _env_file=None,
            HORIZON_DATABASE_URL=url,
            HORIZON_CLIENTS_DIR=str(clients_dir),
            HORIZON_ADMIN_TOKEN=TOKEN,
        )
        store = Store.open(url)
        with (
            start_in_thread(settings, store, clients_dir, None) as panel,
            httpx.Client(base_url=panel.url, timeout=30, trust_env=False) as http,
        ):
            log_in(http)
            for name, path in targets(http, fleet[1].id).items():
                samples = time_requests(http, path, requests)
                p50, p95 = statistics.median(samples), percentile(samples, 0.95)
                verdict = "ok" if p95 < TARGET_P95_MS else "OVER TARGET"
                if p95 >= TARGET_P95_MS:
                    misses.append(f"{label} {name}")
                print(f"  {name:<38} p50 {p50:6.0f} ms   p95 {p95:6.0f} ms   {verdict}")
        store.close()
    return misses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", default=os.environ.get("HORIZON_TEST_POSTGRES_URL"))
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        misses = bench(f"sqlite:///{folder}/panel.db", "SQLite", args.messages, args.requests)
    if args.postgres:
        url, drop = postgres_schema(args.postgres)
        try:
            misses += bench(url, "PostgreSQL", args.messages, args.requests)
        finally:
            drop()
    else:
        print("PostgreSQL: skipped (give --postgres URL or set HORIZON_TEST_POSTGRES_URL)")
    print(f"Over {TARGET_P95_MS:.0f} ms at p95: {', '.join(misses) or 'none'}")


if __name__ == "__main__":
    main()
