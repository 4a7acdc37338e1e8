"""A panel over real traffic, for the tests of the app (tests/panel/test_app_*.py).

The webhook answers a few users through the sandbox on a SQLite file; the panel's app
reads that file, and a Falcon test client logs in to it.

    from tests.panel.world import USERS, panel, traffic   # the fixtures
    def test_x(panel): panel.client.simulate_get("/", cookies=panel.cookies)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import falcon.testing
import pytest

from horizon.panel.app import create_app
from horizon.panel.auth import SESSION_COOKIE
from horizon.store.store import Store
from tests.queries.running import answered, start_webhook
from tests.webhook.conftest import write_clients

__all__ = ["answered", "start_webhook", "write_clients"]  # for the tests that make their own

TOKEN = "panel-test-token-Ω"  # non-ASCII on purpose: compared as bytes
USERS = ("+34600111234", "+34600225678")


@dataclass
class Traffic:
    clients_dir: Path
    database_url: str
    sandbox: object


@dataclass
class Panel:
    client: falcon.testing.TestClient
    cookies: dict[str, str]
    store: Store
    traffic: Traffic

    def get(self, path: str, **kwargs) -> falcon.testing.Result:
        return self.client.simulate_get(path, cookies=self.cookies, **kwargs)


@pytest.fixture(scope="module")
def traffic(tmp_path_factory, _shared_sandbox) -> Traffic:
    """Two users writing to two clients, every message answered, on a SQLite file.

    Once per module: the database file keeps the traffic whatever later tests do to the
    shared sandbox.
    """
    sandbox_module = _shared_sandbox
    sandbox_module.reset()
    base = tmp_path_factory.mktemp("panel")
    clients_dir = write_clients(base / "clients")
    database_url = f"sqlite:///{base / 'horizon.db'}"
    with start_webhook(sandbox_module, clients_dir, database_url) as running:
        for n, user in enumerate(USERS):
            sandbox_module.inbound(user, "+34910000101", f"hola, ¿abrís hoy? {n}")
        sandbox_module.inbound(USERS[0], "+34910000102", "¿tenéis ibuprofeno?")
        answered(running, 3)
    return Traffic(clients_dir, database_url, sandbox_module)


def settings_for(traffic: Traffic, **more: str):
    return traffic.sandbox.settings(
        HORIZON_CLIENTS_DIR=str(traffic.clients_dir),
        HORIZON_DATABASE_URL=traffic.database_url,
        HORIZON_ADMIN_TOKEN=TOKEN,
        **more,
    )


def app_client(
    traffic: Traffic, drift=None, **more: str
) -> tuple[falcon.testing.TestClient, Store]:
    store = Store.open(traffic.database_url)
    app = create_app(settings_for(traffic, **more), store, traffic.clients_dir, drift)
    return falcon.testing.TestClient(app), store


def log_in(
    client: falcon.testing.TestClient, token: str = TOKEN, **options
) -> falcon.testing.Result:
    """POST the login form as a browser would (`options`: simulate_post's, e.g. remote_addr)."""
    return client.simulate_post(
        "/login",
        body=urlencode({"token": token, "next": "/"}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        **options,
    )


@pytest.fixture
def panel(traffic: Traffic) -> Panel:
    client, store = app_client(traffic)
    result = log_in(client)
    assert result.status_code == 303, result.text
    yield Panel(client, {SESSION_COOKIE: result.cookies[SESSION_COOKIE].value}, store, traffic)
    store.close()
