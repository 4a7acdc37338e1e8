"""`horizon panel`: refuses to listen beyond loopback without HORIZON_ADMIN_TOKEN, makes up
a token on loopback, and serves the pages over the webhook's database until stopped."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from horizon.store.store import Store
from tests.webhook.conftest import write_clients

ENV_DROPPED = ("HORIZON_ADMIN_TOKEN", "HORIZON_PUBLIC_URL", "HORIZON_DATABASE_URL")


def panel_command(tmp_path: Path, *args: str, **env: str) -> subprocess.Popen:
    clients = write_clients(tmp_path / "clients")
    database = tmp_path / "horizon.db"
    Store.open(f"sqlite:///{database}").close()  # the webhook's database, migrated
    environment = {k: v for k, v in os.environ.items() if k not in ENV_DROPPED}
    environment |= {"HORIZON_CLIENTS_DIR": str(clients)}
    environment |= {"HORIZON_DATABASE_URL": f"sqlite:///{database}", **env}
    return subprocess.Popen(
        [sys.executable, "-m", "horizon", "panel", *args],
        env=environment,
        cwd=tmp_path,  # no .env of the developer's
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "::"])
def test_panel_refuses_a_non_loopback_host_without_the_admin_token(tmp_path, host):
    process = panel_command(tmp_path, "--host", host, "--port", "0")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert err.strip().splitlines() == [
        f"Error: HORIZON_ADMIN_TOKEN is not set; the panel listens on {host} only with it "
        "(or on 127.0.0.1, where it makes up a token for this run)"
    ]


def test_panel_on_a_missing_database_says_so_in_one_line(tmp_path):
    process = panel_command(
        tmp_path, "--port", "0", HORIZON_DATABASE_URL=f"sqlite:///{tmp_path / 'none.db'}"
    )
    _, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert len(err.strip().splitlines()) == 1 and "there is no database file" in err


def test_panel_on_loopback_makes_up_a_token_prints_it_and_serves(tmp_path):
    process = panel_command(tmp_path, "--port", "0")
    try:
        url = re.fullmatch(r"Panel on (http://127\.0\.0\.1:\d+)\n", process.stdout.readline())
        token = re.fullmatch(
            r"HORIZON_ADMIN_TOKEN is not set; log in with this token: (\S+)\n",
            process.stdout.readline(),
        )
        assert url and token
        with httpx.Client(base_url=url.group(1), timeout=10, trust_env=False) as http:
            assert http.get("/").status_code == 303
            wrong = http.post("/login", data={"token": "nope"})
            assert wrong.status_code == 401
            logged = http.post("/login", data={"token": token.group(1)})
            assert logged.status_code == 303
            page = http.get("/")
            assert page.status_code == 200 and 'data-client="pizzeria-roma"' in page.text
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode in (0, -signal.SIGTERM), err  # uvicorn re-raises it once stopped
    assert "Traceback" not in err
