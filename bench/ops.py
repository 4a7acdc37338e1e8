"""Benchmark the operations queries on a big store: 500 clients, 1,000,000 messages, 90 days.

Fills a SQLite file (and a PostgreSQL schema when --postgres URL or
HORIZON_TEST_POSTGRES_URL is given) with messages, turns, monthly_usage and opt-outs that
look like a fleet's (`populate`, which other benchmarks import), then times `horizon stats
--month <this month>` and `horizon clients --offline`: the query functions, and the real
commands as processes; then `horizon logs --follow` while 200 messages a second arrive
(bench/ops_follow.py's follower). Prints medians and the plans' indexes. Target: each
under 1 s.

    .venv/bin/python bench/ops.py [--postgres URL] [--messages 1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ops_follow import follow  # bench/ops_follow.py: the follower as a process, timed
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from horizon.config.loader import load_fleet
from horizon.config.prices import DEFAULT_PRICES
from horizon.queries.fleet import client_rows
from horizon.queries.stats import client_stats
from horizon.queries.window import Window, month_of
from horizon.store.engine import database_url
from horizon.store.store import Store

TARGET_S = 1.0
FOLLOW_RATE, FOLLOW_SECONDS = 200.0, 10.0  # `logs --follow` while messages arrive
DAY = 86400.0
MODELS = ("gpt-5.4-mini",) * 8 + ("gpt-5.4-nano", "gpt-5.4")
# What a turn answered with, weighted roughly as a healthy fleet's are.
KINDS = ("answer",) * 96 + ("fallback", "paused", "limit", "opt_out")
MESSAGE_COLUMNS = [
    "id",
    "sid",
    "direction",
    "client_id",
    "user_number",
    "client_number",
    "channel",
    "body",
    "status",
    "turn_id",
    "part",
    "input_tokens",
    "output_tokens",
    "created_at",
    "updated_at",
    "answered_at",
]
TURN_COLUMNS = [
    "id",
    "client_id",
    "user_number",
    "kind",
    "parts",
    "parts_sent",
    "model",
    "response_id",
    "input_tokens",
    "output_tokens",
    "started_at",
    "finished_at",
    "send_failures",
]


@dataclass(frozen=True)
class BenchClient:
    id: str
    number: str


def bench_clients(count: int) -> list[BenchClient]:
    return [BenchClient(f"client-{n:04d}", f"+3491{n:07d}") for n in range(count)]


def write_clients_dir(directory: Path, clients: list[BenchClient]) -> Path:
    """A clients/ directory for `clients`, as `horizon clients` and `stats` load it."""
    directory.mkdir(parents=True, exist_ok=True)
    for client in clients:
        (directory / f"{client.id}.yaml").write_text(
            f'name: Client {client.id}\nnumber: "{client.number}"\n'
            "assistant:\n  instructions: Eres un asistente.\n"
            "limits:\n  monthly_budget_usd: 50\n",
            encoding="utf-8",
        )
    return directory


def _exchanges(
    clients: list[BenchClient], exchanges: int, days: int, now: float, rng: random.Random
) -> Iterator[tuple[tuple, tuple, tuple]]:
    """(inbound, outbound, turn) rows of `exchanges` answered messages, oldest first."""
    times = sorted(now - rng.random() * days * DAY for _ in range(exchanges))
    for n, created in enumerate(times, start=1):
        client = clients[rng.randrange(len(clients))]
        user = f"+346{rng.randrange(200):08d}"  # ~200 users per client
        kind = rng.choice(KINDS)
        model = rng.choice(MODELS) if kind in ("answer", "fallback") else None
        inp, out = (rng.randint(300, 1500), rng.randint(40, 300)) if model else (0, 0)
        latency = rng.lognormvariate(0.7, 0.5)  # median ~2 s, a long tail
        answered = created + latency
        status = {"fallback": "failed", "limit": "limited"}.get(kind, "answered")
        body = "¿Tenéis mesa para dos esta noche?"
        inbound = (2 * n - 1, f"SM{2 * n - 1:032x}", "inbound", client.id, user, client.number)
        inbound += ("whatsapp", body, status, n, None, None, None, created, answered, answered)
        outbound = (2 * n, f"SM{2 * n:032x}", "outbound", client.id, user, client.number)
        outbound += ("whatsapp", "Sí, os esperamos.", "delivered", n, 1, inp or None)
        outbound += (out or None, answered, answered + 2, None)
        turn = (n, client.id, user, kind, '["Sí, os esperamos."]', 1, model)
        turn += (f"resp_{n:x}" if model else None, inp, out, created, answered, 0)
        yield inbound, outbound, turn


def populate(
    url: str,
    clients: int = 500,
    messages: int = 1_000_000,
    days: int = 90,
    now: float | None = None,
    seed: int = 1,
) -> list[BenchClient]:
    """Fill the empty store at `url` (migrated here) with `messages` messages of `clients`
    clients over the last `days` days: half inbound, each answered by one turn and one
    outbound part; monthly_usage summed from the turns; a few opt-outs. Returns the clients."""
    now = time.time() if now is None else now
    rng = random.Random(seed)
    fleet = bench_clients(clients)
    store = Store.open(url)
    try:
        inbound, outbound, turns, usage = [], [], [], {}
        for message, reply, turn in _exchanges(fleet, messages // 2, days, now, rng):
            inbound.append(message)
            outbound.append(reply)
            turns.append(turn)
            if turn[6] is not None:
                key = (turn[1], month_of(turn[10]), turn[6])
                before = usage.get(key, (0, 0))
                usage[key] = (before[0] + turn[8], before[1] + turn[9])
        opt_outs = [
            (c.id, f"+346{u:08d}", True, "STOP", now - rng.random() * days * DAY)
            for c in fleet
            for u in rng.sample(range(200), 2)
        ]
        tables = {
            "turns": (TURN_COLUMNS, turns),
            "messages": (MESSAGE_COLUMNS, inbound + outbound),
            "monthly_usage": (
                ["client_id", "month", "model", "input_tokens", "output_tokens"],
                [(*key, *value) for key, value in usage.items()],
            ),
            "opt_outs": (
                ["client_id", "user_number", "opted_out", "keyword", "updated_at"],
                opt_outs,
            ),
        }
        _bulk_insert(store, tables)
    finally:
        store.close()
    return fleet


def _bulk_insert(store: Store, tables: dict[str, tuple[list[str], list[tuple]]]) -> None:
    """COPY on PostgreSQL, one executemany per table on SQLite; then ANALYZE."""
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table, (columns, rows) in tables.items():
            names = ", ".join(columns)
            if store.dialect == "postgresql":
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        if store.dialect == "postgresql":
            for table in ("messages", "turns"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        raw.commit()
        if store.dialect == "postgresql":
            # What autovacuum does after a bulk load: statistics, and the visibility map
            # that lets PostgreSQL answer from an index alone.
            raw.driver_connection.autocommit = True
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()


def timed(function: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def command_seconds(args: list[str], env: dict[str, str], runs: int) -> float:
    horizon = [sys.executable, "-m", "horizon", *args, "--output", "json"]
    run = lambda: subprocess.run(horizon, env=env, capture_output=True, check=True)  # noqa: E731
    return timed(run, runs)


def print_plans(store: Store, window: Window) -> None:
    """The plans of the month's heaviest statements, reduced to the indexes they use."""
    params = {"start": window.start, "end": window.end}
    statements = {
        "messages of the month": "SELECT client_id, direction, channel, count(*), "
        "sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) FROM messages "
        "WHERE created_at >= :start AND created_at < :end AND client_id IS NOT NULL "
        "GROUP BY client_id, direction, channel",
        "reply latencies": "SELECT client_id, answered_at - created_at, row_number() OVER "
        "(PARTITION BY client_id ORDER BY answered_at - created_at) FROM messages "
        "WHERE created_at >= :start AND created_at < :end AND direction = 'inbound' "
        "AND answered_at IS NOT NULL AND client_id IS NOT NULL",
        "turns of the month": "SELECT client_id, kind, model, count(*), sum(input_tokens) "
        "FROM turns WHERE started_at >= :start AND started_at < :end "
        "GROUP BY client_id, kind, model",
        "last message of a client": "SELECT max(created_at) FROM messages "
        "WHERE client_id = 'client-0001'",
    }
    explain = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN "
    with store.engine.connect() as connection:
        for name, sql in statements.items():
            plan = [
                " ".join(map(str, row)) for row in connection.execute(text(explain + sql), params)
            ]
            used = [line.strip() for line in plan if "INDEX" in line.upper() or " Scan " in line]
            print(f"    {name}: {' | '.join(used) or ' | '.join(plan)}")


def bench(url: str, label: str, messages: int, runs: int) -> None:
    start = time.perf_counter()
    fleet = populate(url, messages=messages)
    took = time.perf_counter() - start
    print(f"{label}: {messages:,} messages of {len(fleet)} clients written in {took:.1f} s")
    with tempfile.TemporaryDirectory() as folder:
        clients_dir = write_clients_dir(Path(folder) / "clients", fleet)
        loaded = load_fleet(clients_dir).fleet
        store = Store.open(url)
        try:
            now = time.time()
            window = Window.month(month_of(now))
            stats_s = timed(lambda: client_stats(store, loaded, window, DEFAULT_PRICES), runs)
            clients_s = timed(lambda: client_rows(store, loaded, DEFAULT_PRICES, now), runs)
            print_plans(store, window)
        finally:
            store.close()
        env = {**os.environ, "HORIZON_DATABASE_URL": url, "HORIZON_CLIENTS_DIR": str(clients_dir)}
        stats_cmd = command_seconds(["stats", "--month", window.label], env, runs)
        clients_cmd = command_seconds(["clients", "--offline"], env, runs)
    delays = follow(url, FOLLOW_RATE, FOLLOW_SECONDS)
    for name, query_s, command_s in (
        (f"stats --month {window.label}", stats_s, stats_cmd),
        ("clients --offline", clients_s, clients_cmd),
    ):
        verdict = "ok" if query_s < TARGET_S else "OVER TARGET"
        print(
            f"  {name:<24} query {query_s * 1000:7.0f} ms   command {command_s * 1000:7.0f} ms "
            f"(process, 500 client files)   {verdict}"
        )
    seen = sorted(delay for delay in delays if delay is not None)
    worst = seen[-1] if seen else float("inf")
    print(
        f"  logs --follow at {FOLLOW_RATE:g} messages/s: commit → line median "
        f"{statistics.median(seen) * 1000:.0f} ms, p95 {seen[int(len(seen) * 0.95) - 1] * 1000:.0f}"
        f" ms, max {worst * 1000:.0f} ms, {len(delays) - len(seen)} of {len(delays)} never shown"
        f"   {'ok' if worst < TARGET_S and len(seen) == len(delays) else 'OVER TARGET'}"
    )


def postgres_schema(server: str) -> tuple[str, Callable[[], None]]:
    """A URL on a new schema of `server`, and how to drop it."""
    schema = f"bench_ops_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url(server), poolclass=NullPool)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})

    def drop() -> None:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", default=os.environ.get("HORIZON_TEST_POSTGRES_URL"))
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bench(f"sqlite:///{folder}/ops.db", "SQLite", args.messages, args.runs)
    if args.postgres:
        url, drop = postgres_schema(args.postgres)
        try:
            bench(url, "PostgreSQL", args.messages, args.runs)
        finally:
            drop()
    else:
        print("PostgreSQL: skipped (give --postgres URL or set HORIZON_TEST_POSTGRES_URL)")


if __name__ == "__main__":
    main()
