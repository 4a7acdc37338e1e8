"""Assembling and running the webhook: store, live configuration, worker and app from Settings.

with start_in_thread(settings) as webhook:     # a free port on 127.0.0.1
    print(webhook.url)                          # also the public URL when none is set
"""

from __future__ import annotations

import asyncio
import functools
import gc
import math
import sys
from dataclasses import dataclass, field

import falcon.asgi
import uvicorn

from horizon.config.errors import ConfigError
from horizon.config.loader import load_fleet
from horizon.config.prices import PriceFileError, load_prices
from horizon.endpoints import status_url
from horizon.serving import ServerThread, bind, start_thread, url_of
from horizon.settings import Settings
from horizon.store.aio import AsyncStore
from horizon.store.opening import StoreUnavailable, open_writable_store
from horizon.store.store import Store
from horizon.telemetry.metrics import Metrics
from horizon.vendors.openai_sdk import async_openai_client, openai_client
from horizon.vendors.retry import RetryPolicy
from horizon.vendors.twilio_sdk import async_twilio_client
from horizon.vendors.vector_stores import vector_store_ids
from horizon.webhook.app import create_app
from horizon.webhook.connections import ConnectionGuard, GuardedServer, connection_limits
from horizon.webhook.heartbeat import Heartbeat
from horizon.webhook.live_config import LiveConfig, watch
from horizon.worker.messenger import Messenger
from horizon.worker.model import AssistantModel
from horizon.worker.outbox import OutboxPolicy
from horizon.worker.reply_worker import ReplyWorker, WorkerOptions
from horizon.worker.thread import WorkerThread
from horizon.worker.turn import TurnRunner

MODEL_TIMEOUT = 60.0  # far below the OpenAI SDK's 600 s: a user is waiting
# The budget is what bounds a turn (a user is waiting); eight attempts let a flaky vendor
# (three calls in ten failing) through almost always within it.
WORKER_POLICY = RetryPolicy(attempts=8, base_delay=0.25, max_delay=8.0, budget=40.0)
# Open files the process needs besides the webhook's connections, so that the connection
# cap leaves room for them: one OpenAI connection per turn in flight (the worker's
# concurrency), the Twilio client's pool (256, vendors/twilio_sdk.py), and 64 for the
# database, the knowledge listing's client, the event loops and the process itself.
TWILIO_CONNECTIONS = 256
OWN_FILES = 64


class StartupError(Exception):
    """`horizon serve` cannot start; the message says why in one line."""


class InvalidConfig(Exception):
    """The clients directory does not validate; the webhook does not start on it."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} error(s) in the client files")


@dataclass
class Webhook:
    """Everything `horizon serve` runs: the ASGI app and the parts it was built from."""

    app: falcon.asgi.App
    store: AsyncStore
    live_config: LiveConfig
    worker: ReplyWorker
    metrics: Metrics
    heartbeat: Heartbeat


def build_webhook(
    settings: Settings,
    *,
    options: WorkerOptions | None = None,
    reload_config: bool = False,
) -> Webhook:
    """Load and validate the clients, open (and migrate) the store, wire worker and app."""
    loaded = load_fleet(settings.clients_dir)
    if loaded.errors:
        raise InvalidConfig(sorted(loaded.errors))
    try:  # the budget guard prices with the table the operator's figures cite
        prices = load_prices(settings.prices_file)
    except PriceFileError as error:
        raise StartupError(str(error)) from None
    metrics = Metrics()
    live_config = LiveConfig(loaded.fleet, settings.clients_dir, metrics)
    public_url = settings.require("public_url", "to check signatures and receive callbacks")
    openai = async_openai_client(settings, timeout=MODEL_TIMEOUT, max_retries=0)
    twilio = async_twilio_client(settings)
    store = AsyncStore(open_store(settings.database_url))
    options = options or WorkerOptions()
    messenger = Messenger(twilio, status_url(public_url), options.send_policy)
    knowledge_client = openai_client(settings, timeout=MODEL_TIMEOUT, max_retries=0)
    list_knowledge = functools.partial(vector_store_ids, knowledge_client, WORKER_POLICY)
    model = AssistantModel(openai, store, WORKER_POLICY, list_knowledge)
    outbox = OutboxPolicy(settings.reply_deadline, options.outbox_backoff)
    turns = TurnRunner(
        store, lambda: live_config.fleet, model, messenger, metrics, outbox=outbox, prices=prices
    )
    worker = ReplyWorker(store, turns, metrics, options)
    # The worker's HTTP clients are used, and so closed, on the worker's own loop.
    runner = WorkerThread(worker, on_stop=[messenger.close, openai.close])
    # The replica is named as its worker names itself in the claims it holds.
    heartbeat = Heartbeat(store, live_config, worker.owner)
    background: list[asyncio.Task] = []

    async def start_watching() -> None:
        if reload_config:
            background.append(asyncio.get_running_loop().create_task(watch(live_config)))

    async def close() -> None:
        for task in background:
            task.cancel()
        knowledge_client.close()
        await asyncio.to_thread(store.close)

    app = create_app(
        settings,
        store,
        live_config,
        worker=runner,
        metrics=metrics,
        on_startup=[heartbeat.start, start_watching],
        on_shutdown=[heartbeat.stop, close],
    )
    return Webhook(app, store, live_config, worker, metrics, heartbeat)


def open_store(url: str) -> Store:
    """The store at `url`, migrated and writable; else StartupError naming the setting."""
    try:
        return open_writable_store(url)
    except StoreUnavailable as error:
        raise StartupError(str(error)) from None


def server_for(webhook: Webhook, settings: Settings) -> uvicorn.Server:
    """A uvicorn server for `webhook` with the connection limits of `settings`."""
    reserved = webhook.worker.options.concurrency + TWILIO_CONNECTIONS + OWN_FILES
    limits = connection_limits(
        settings.max_connections,
        settings.request_timeout,
        settings.keep_alive_timeout,
        reserved_files=reserved,
    )
    config = uvicorn.Config(
        webhook.app,
        lifespan="on",
        log_config=None,
        access_log=False,
        ws="none",  # the webhook has no WebSocket; an upgrade would escape the guard
        timeout_keep_alive=limits.keep_alive_timeout,  # type: ignore[arg-type]
        timeout_graceful_shutdown=math.ceil(webhook.worker.options.shutdown_grace),
        # Not uvicorn's limit_concurrency: it counts slow connections too, then answers
        # the real requests 503. The guard sheds the slow ones instead.
        limit_concurrency=None,
        backlog=4096,
    )
    return GuardedServer(config, ConnectionGuard(limits, webhook.metrics.connections_shed))


def settle_heap() -> None:
    """Exempt everything built so far (modules, SDKs, the app) from garbage collection.

    Python's full collections walk every live object while holding the GIL: with Twilio's
    and OpenAI's SDKs loaded that is over 100 ms of a stalled event loop, every few seconds
    under load. What exists at start-up lives as long as the process, so it is frozen.
    """
    gc.collect()
    gc.freeze()


def share_the_gil_finely() -> None:
    """Hand the GIL between the webhook's and the worker's threads every 1 ms, not 5 ms.

    A request arriving while the worker's thread computes waits for the GIL up to the
    switch interval at each step (read, store, write); 1 ms keeps that out of the p99.
    """
    sys.setswitchinterval(0.001)


def serve(settings: Settings, host: str, port: int, *, reload_config: bool = False) -> None:
    """Run in the foreground until SIGINT/SIGTERM (`horizon serve`)."""
    try:
        sock = bind(host, port)
    except OSError as error:
        raise StartupError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    if not settings.public_url:
        settings = settings.model_copy(update={"public_url": url_of(sock)})
    try:
        webhook = build_webhook(settings, reload_config=reload_config)
    except Exception:
        sock.close()
        raise
    server = server_for(webhook, settings)
    settle_heap()
    share_the_gil_finely()
    server.run(sockets=[sock])


@dataclass
class RunningWebhook:
    """A webhook serving on a background thread; `stop()` (or leaving `with`) shuts it down."""

    url: str
    public_url: str
    webhook: Webhook
    _serving: ServerThread = field(repr=False)

    def stop(self, timeout: float = 10.0) -> None:
        self._serving.stop(timeout)

    def __enter__(self) -> RunningWebhook:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_in_thread(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    options: WorkerOptions | None = None,
    ready_timeout: float = 10.0,
) -> RunningWebhook:
    """Start the webhook on `host:port` (0: a free port); returns once it accepts requests.

    Without HORIZON_PUBLIC_URL the bound URL is used as the public URL, so point the
    senders' webhooks (reconcile) at `running.public_url`.
    """
    sock = bind(host, port)
    url = url_of(sock)
    if not settings.public_url:
        settings = settings.model_copy(update={"public_url": url})
    try:
        webhook = build_webhook(settings, options=options)
    except Exception:
        sock.close()
        raise
    serving = start_thread(server_for(webhook, settings), sock, "horizon-webhook", ready_timeout)
    return RunningWebhook(url, str(settings.public_url), webhook, serving)
