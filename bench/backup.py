"""Benchmark `horizon backup` and `horizon restore` on a big store: time and peak memory.

Seeds N inbound messages (default 1,000,000) into a SQLite file, or into a new schema of
the PostgreSQL database `--postgres URL` names, then backs it up and restores the file
into an empty database of the same kind, each step in its own process so its peak
resident memory is its own. Target: memory stays flat (well under 100 MB) however many
rows; the times are printed for the README.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from horizon.store import Store
from horizon.store.engine import database_url
from horizon.store.schema import messages

BATCH = 50_000


def seed(url: str, count: int) -> None:
    store = Store.open(url)
    with store.engine.begin() as connection:
        for start in range(0, count, BATCH):
            rows = [_message(n) for n in range(start, min(count, start + BATCH))]
            connection.execute(messages.insert(), rows)
    store.close()


def _message(n: int) -> dict:
    return {
        "sid": f"SM{n:032x}",
        "direction": "inbound",
        "client_id": f"client-{n % 500}",
        "user_number": f"+346{n % 100_000:08d}",
        "client_number": "+34910000101",
        "channel": "whatsapp",
        "body": "¿Tenéis mesa para dos esta noche a las nueve?",
        "status": "answered",
        "created_at": 1.79e9 + n,
        "updated_at": 1.79e9 + n,
        "answered_at": 1.79e9 + n + 2.5,
    }


def step(name: str, url: str, file: str) -> None:
    """One step, run in this (child) process: prints seconds and peak RSS."""
    from horizon.store.backup import write_backup
    from horizon.store.restore import restore_backup

    store = Store.open(url)
    started = time.monotonic()
    if name == "backup":
        write_backup(store, Path(file))
    else:
        restore_backup(store, Path(file))
    seconds = time.monotonic() - started
    peak = _peak_rss_mb()
    print(f"{name:8} {seconds:6.1f} s   peak RSS {peak:5.0f} MB")


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from
    the parent across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def schema_url(server: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:12]}"
    with create_engine(database_url(server)).begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {name}")
    url = make_url(server).update_query_dict({"options": f"-csearch_path={name}"})
    return url.render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--postgres", metavar="URL", help="bench PostgreSQL instead of SQLite")
    parser.add_argument("--step", nargs=3, help=argparse.SUPPRESS)  # name, url, file
    args = parser.parse_args()
    if args.step:
        step(*args.step)
        return
    with tempfile.TemporaryDirectory() as folder:
        if args.postgres:
            source, target = schema_url(args.postgres), schema_url(args.postgres)
        else:
            source, target = f"sqlite:///{folder}/source.db", f"sqlite:///{folder}/target.db"
        try:
            run(source, target, f"{folder}/backup.jsonl.gz", args.messages)
        finally:
            if args.postgres:
                drop_schemas(args.postgres, source, target)


def run(source: str, target: str, file: str, count: int) -> None:
    seed(source, count)
    print(f"{count:,} messages on {make_url(source).get_backend_name()}")
    for name, url in (("backup", source), ("restore", target)):
        subprocess.run([sys.executable, __file__, "--step", name, url, file], check=True)
    print(f"file     {Path(file).stat().st_size / 1e6:6.1f} MB")


def drop_schemas(server: str, *urls: str) -> None:
    with create_engine(database_url(server)).begin() as connection:
        for url in urls:
            name = make_url(url).query["options"].removeprefix("-csearch_path=")
            connection.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")


if __name__ == "__main__":
    main()
