"""A serving webhook registers itself, beats, records its config loads, and says it stopped;
the System page's figures (horizon/queries/system.py) read them, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from horizon.config.loader import load_fleet
from horizon.queries.system import system_status
from horizon.store.aio import AsyncStore
from horizon.store.records import InboundMessage
from horizon.store.replicas import ALIVE_WITHIN, ReplicaInfo
from horizon.store.schema import replicas
from horizon.store.store import Store
from horizon.webhook.heartbeat import Heartbeat
from horizon.webhook.live_config import LiveConfig
from horizon.webhook.server import start_in_thread
from tests.webhook.conftest import write_clients

TOKEN = "panel-admin-token"
ANA, ROMA = "+34600000001", "+34910000101"


def git(directory: Path, *args: str) -> str:
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    done = subprocess.run(
        ["git", *identity, *args], cwd=directory, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def committed_clients(root: Path) -> tuple[Path, str]:
    clients_dir = write_clients(root / "clients")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "clients")
    return clients_dir, git(root, "rev-parse", "HEAD")


def test_a_webhook_registers_records_its_reloads_and_says_it_stopped(
    sandbox, tmp_path, database_url
):
    clients_dir, commit = committed_clients(tmp_path)
    settings = sandbox.settings(
        HORIZON_CLIENTS_DIR=str(clients_dir),
        HORIZON_DATABASE_URL=database_url,
        HORIZON_ADMIN_TOKEN=TOKEN,
    )
    running = start_in_thread(settings)
    store = Store.open(database_url)
    try:
        status = system_status(store, time.time())
        (replica,) = status["replicas"]
        assert replica["id"] == running.webhook.worker.owner
        assert replica["pid"] == os.getpid() and replica["alive"] is True
        assert replica["config_commit"] == commit and status["config"]["commit"] == commit
        (startup,) = status["config"]["reloads"]
        assert startup | {"at": None} == {
            "at": None,
            "replica": replica["id"],
            "trigger": "startup",
            "ok": True,
            "commit": commit,
            "clients": len(load_fleet(clients_dir).fleet),
            "error": None,
        }
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.post(f"{running.url}/api/reload", headers=auth).status_code == 200
        (clients_dir / "farmacia-sol.yaml").write_text("name: [\n", encoding="utf-8")
        assert httpx.post(f"{running.url}/api/reload", headers=auth).status_code == 422
        rejected, applied, _ = system_status(store, time.time())["config"]["reloads"]
        assert (applied["trigger"], applied["ok"], applied["commit"]) == ("api", True, commit)
        assert (rejected["trigger"], rejected["ok"], rejected["clients"]) == ("api", False, None)
        assert "farmacia-sol.yaml" in rejected["error"] and rejected["commit"] == commit
    finally:
        running.stop()
    (replica,) = system_status(store, time.time())["replicas"]
    assert replica["stopped_at"] is not None and replica["alive"] is False
    store.close()


def test_heartbeats_move_on_and_a_removed_replica_registers_again(tmp_path, database_url):
    store = Store.open(database_url)
    live_config = LiveConfig(load_fleet(write_clients(tmp_path / "clients")).fleet)

    async def beating() -> list[float]:
        async_store = AsyncStore(store)
        heartbeat = Heartbeat(async_store, live_config, "host:1:abc", interval=0.05)
        await heartbeat.start()
        seen = [system_status(store, time.time())["replicas"][0]["heartbeat_at"]]
        await asyncio.sleep(0.3)
        seen.append(system_status(store, time.time())["replicas"][0]["heartbeat_at"])
        with store.engine.begin() as connection:
            connection.execute(replicas.delete())
        await asyncio.sleep(0.3)
        assert system_status(store, time.time())["replicas"][0]["alive"] is True
        await heartbeat.stop()
        return seen

    first, later = asyncio.run(beating())
    assert later > first
    (stopped,) = system_status(store, time.time())["replicas"]
    assert stopped["id"] == "host:1:abc" and stopped["alive"] is False
    store.close()


def test_a_replica_is_alive_while_its_heartbeat_is_recent(database_url):
    clock = [1_000_000.0]
    store = Store.open(database_url, clock=lambda: clock[0])
    for name in ("a", "b"):
        store.replicas.register(ReplicaInfo(f"host:{name}", "host", 1, "0.1.0"), "abc123")
        clock[0] += ALIVE_WITHIN
    # "a" beat 2 × ALIVE_WITHIN ago, "b" ALIVE_WITHIN ago (the edge: still alive)
    status = {r["id"]: r for r in system_status(store, clock[0])["replicas"]}
    assert status["host:a"]["alive"] is False and status["host:b"]["alive"] is True
    assert status["host:a"]["version"] == "0.1.0"
    store.close()


def test_queue_depth_the_oldest_unanswered_and_the_database(database_url):
    clock = [1_000_000.0]
    store = Store.open(database_url, clock=lambda: clock[0])
    empty = system_status(store, clock[0])
    assert empty["queue_depth"] == 0 and empty["oldest_unanswered_age_s"] is None
    for n in range(3):
        store.queue.record_inbound(
            InboundMessage(f"SM{n:032x}", ANA, ROMA, "whatsapp", "hola", "pizzeria-roma")
        )
        clock[0] += 10
    status = system_status(store, clock[0])
    assert status["queue_depth"] == 3
    assert status["oldest_unanswered_age_s"] == pytest.approx(30.0)
    database = status["database"]
    assert database["dialect"] == store.dialect and database["schema_version"] >= 9
    assert "horizon:horizon@" not in database["url"]  # the password is never shown
    store.close()
