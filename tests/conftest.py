"""Shared fixtures: a sandbox on a free port that the real SDKs talk to, and a webhook receiver.

    def test_something(sandbox):
        client = sandbox.twilio()                 # twilio.rest.Client via horizon.providers.sdk
        sandbox.inbound("+34600000001", "+34910000101", "hola")
        assert sandbox.messages(direction="outbound-api") == [...]

`sandbox` is one server for the whole run, emptied before each test; `start_sandbox(...)`
starts a dedicated one with other options (timings, a state file, faults from the start).

`database_url` runs a test once on a new SQLite file and once on an empty PostgreSQL
schema in the database HORIZON_TEST_POSTGRES_URL names (skipped when it is not set).
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from horizon.sandbox.options import SandboxOptions
from horizon.sandbox.server import RunningSandbox, start_in_thread
from horizon.settings import Settings
from horizon.store.engine import database_url as parse_database_url
from tests.contracts.recorded import VENDOR_REQUESTS

# Every request a sandbox started here receives is checked against the vendors' OpenAPI
# documents after each test (tests/contracts/README.md).
pytest_plugins = ("pytester", "tests.contracts.plugin")


@dataclass
class SandboxHandle:
    """A running sandbox: its URL, credentials, Horizon's SDK clients and the control API."""

    running: RunningSandbox
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.url, timeout=30, trust_env=False)

    @property
    def url(self) -> str:
        return self.running.url

    @property
    def options(self) -> SandboxOptions:
        return self.running.options

    @property
    def account_sid(self) -> str:
        return self.options.account_sid

    @property
    def auth_token(self) -> str:
        return self.options.auth_token

    @property
    def openai_key(self) -> str:
        return self.options.openai_key

    def env(self) -> dict[str, str]:
        """TWILIO_API_BASE, OPENAI_BASE_URL and the credentials, for a subprocess or monkeypatch."""
        return self.running.env()

    def settings(self, **overrides: str) -> Settings:
        """Settings pointing here; overrides are by variable name (e.g. OPENAI_API_KEY)."""
        return Settings(_env_file=None, **{**self.env(), **overrides})

    def twilio(self, max_retries: int = 2, **overrides: str):
        from horizon.vendors.twilio_sdk import twilio_client

        return twilio_client(self.settings(**overrides), max_retries=max_retries)

    def openai(self, max_retries: int = 2, **overrides: str):
        from horizon.vendors.openai_sdk import openai_client

        return openai_client(self.settings(**overrides), max_retries=max_retries)

    def control(self, method: str, name: str, json: dict | None = None) -> dict:
        response = self.http.request(method, f"/__sandbox__/{name}", json=json)
        response.raise_for_status()
        return response.json()

    def inbound(self, from_: str, to: str, body: str, **extra: object) -> dict:
        """A user's message to `to`, delivered to its webhook; answers sid and webhook result."""
        return self.control("POST", "inbound", {"from": from_, "to": to, "body": body, **extra})

    def messages(self, **filters: str) -> list[dict]:
        query = "&".join(f"{name}={value}" for name, value in filters.items())
        return self.control("GET", f"messages?{query}")["messages"]

    def requests(self) -> dict:
        return self.control("GET", "requests")

    def faults(self, **settings: object) -> dict:
        return self.control("POST", "faults", settings)

    def seed_numbers(self, *numbers: str) -> list[dict]:
        return self.control("POST", "numbers", {"numbers": list(numbers)})["incoming_phone_numbers"]

    def add_senders(self, numbers: list[str], callback: str = "http://127.0.0.1:9/x") -> None:
        """WhatsApp senders for `numbers` whose inbound webhook is `callback`."""
        from twilio.rest.messaging.v2.channels_sender import ChannelsSenderList

        senders = self.twilio().messaging.v2.channels_senders
        for number in numbers:
            request = ChannelsSenderList.MessagingV2ChannelsSenderRequestsCreate(
                {
                    "sender_id": f"whatsapp:{number}",
                    "profile": {"name": number},
                    "webhook": {"callback_url": callback, "callback_method": "POST"},
                }
            )
            senders.create(request)

    def reset(self) -> None:
        self.control("POST", "reset")

    def close(self) -> None:
        self.http.close()
        self.running.stop()


FAST = {"sender_online_after": 0.0, "status_step": 0.01}


@pytest.fixture(scope="session")
def _shared_sandbox() -> Iterator[SandboxHandle]:
    handle = SandboxHandle(start_in_thread(SandboxOptions(**FAST), observer=VENDOR_REQUESTS))
    yield handle
    handle.close()


@pytest.fixture
def sandbox(_shared_sandbox: SandboxHandle) -> SandboxHandle:
    """An empty sandbox: senders are ONLINE at once and messages move quickly."""
    _shared_sandbox.reset()
    return _shared_sandbox


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., SandboxHandle]]:
    """Start dedicated sandboxes with other options; all are stopped after the test."""
    started: list[SandboxHandle] = []

    def start(**options: object) -> SandboxHandle:
        sandbox_options = SandboxOptions(**{**FAST, **options})
        handle = SandboxHandle(start_in_thread(sandbox_options, observer=VENDOR_REQUESTS))
        started.append(handle)
        return handle

    yield start
    for handle in started:
        handle.close()


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # bursts of parallel callbacks must not overflow the backlog
    daemon_threads = True


class WebhookReceiver:
    """A loopback HTTP server that records what it receives and answers `status`/`body`."""

    def __init__(self) -> None:
        self.received: list[ReceivedRequest] = []
        self.status, self.body = 200, "<Response/>"
        self._arrived = threading.Condition()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                receiver._record(ReceivedRequest("POST", self.path, dict(self.headers), form))
                self._answer()

            def do_GET(self) -> None:
                query = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
                receiver._record(ReceivedRequest("GET", self.path, dict(self.headers), query))
                self._answer()

            def _answer(self) -> None:
                self.send_response(receiver.status)
                self.send_header("Content-Type", "text/xml")
                self.end_headers()
                self.wfile.write(receiver.body.encode())

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def _record(self, request: ReceivedRequest) -> None:
        with self._arrived:
            self.received.append(request)
            self._arrived.notify_all()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedRequest]:
        """Block until `count` requests have arrived; return them all."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


POSTGRES_URL_VARIABLE = "HORIZON_TEST_POSTGRES_URL"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A `postgresql://` URL whose connections use a new, empty schema, dropped afterwards."""
    server = os.environ.get(POSTGRES_URL_VARIABLE)
    if not server:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_URL_VARIABLE}=postgresql://user:password@host:port/"
            "database (a database the user may create schemas in); .ci/run starts one"
        )
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(parse_database_url(server), poolclass=NullPool)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql("SET LOCAL lock_timeout = '30s'")
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """HORIZON_DATABASE_URL of a new, empty database: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/horizon.db"
    return request.getfixturevalue("postgres_url")
