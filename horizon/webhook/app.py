"""The webhook's Falcon ASGI app, wired in one place: routes, lifecycle, error handlers."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Awaitable, Callable

import falcon
import falcon.asgi
from sqlalchemy.exc import SQLAlchemyError

from horizon.config.fleet import Fleet
from horizon.endpoints import INBOUND_PATH, STATUS_PATH
from horizon.settings import Settings
from horizon.store.aio import AsyncStore
from horizon.store.store import Store
from horizon.telemetry.logs import log_event
from horizon.telemetry.metrics import Metrics
from horizon.webhook.live_config import LiveConfig
from horizon.webhook.ops_resources import (
    AdminAuth,
    ClientsResource,
    HealthResource,
    MetricsResource,
    ReadyResource,
    ReloadResource,
)
from horizon.webhook.twilio_requests import SignatureCheck
from horizon.webhook.twilio_resources import InboundResource, Notifier, StatusResource


class Lifecycle:
    """ASGI lifespan: start the worker and SIGHUP reloads on startup, stop them on shutdown."""

    def __init__(
        self,
        live_config: LiveConfig,
        worker: Notifier | None,
        on_startup: list[Callable[[], Awaitable[None]]],
        on_shutdown: list[Callable[[], Awaitable[None]]],
    ) -> None:
        self.live_config, self.worker = live_config, worker
        self.on_startup, self.on_shutdown = on_startup, on_shutdown

    async def process_startup(self, scope: dict, event: dict) -> None:
        if self.live_config.clients_dir and threading.current_thread() is threading.main_thread():
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGHUP, self._reload_in_thread)
        start = getattr(self.worker, "start", None)
        if start is not None:
            await start()
        for begin in self.on_startup:
            await begin()
        log_event("webhook_started", clients=len(self.live_config.fleet))

    def _reload_in_thread(self) -> None:
        log_event("config_reload_requested", signal="SIGHUP")
        asyncio.get_running_loop().run_in_executor(None, self.live_config.reload, "signal")

    async def process_shutdown(self, scope: dict, event: dict) -> None:
        stop = getattr(self.worker, "stop", None)
        if stop is not None:
            await stop()
        for close in self.on_shutdown:
            await close()
        log_event("webhook_stopped")


async def _store_unavailable(req, resp, error: SQLAlchemyError, params) -> None:
    log_event("store_error", level=40, path=req.path, error=f"{type(error).__name__}: {error}")
    raise falcon.HTTPServiceUnavailable(description="the message store is unavailable")


def create_app(
    settings: Settings,
    store: AsyncStore | Store,
    fleet: Fleet | LiveConfig,
    *,
    worker: Notifier | None = None,
    metrics: Metrics | None = None,
    on_startup: list[Callable[[], Awaitable[None]]] | None = None,
    on_shutdown: list[Callable[[], Awaitable[None]]] | None = None,
) -> falcon.asgi.App:
    """The webhook app. `fleet` may be a LiveConfig (reloadable from its directory).

    `worker` is told about each stored message and started/stopped with the app; without
    one, messages are stored and queued for whichever process runs a worker on the store.
    `on_startup` / `on_shutdown` run after the worker starts and after it stops.
    """
    auth_token = settings.require("twilio_auth_token", "to check Twilio's webhook signatures")
    public_url = settings.require("public_url", "to check Twilio's webhook signatures")
    store = store if isinstance(store, AsyncStore) else AsyncStore(store)
    metrics = metrics or Metrics()
    live_config = fleet if isinstance(fleet, LiveConfig) else LiveConfig(fleet, metrics=metrics)
    if live_config.metrics is None:  # the app's metrics count reloads however they are asked for
        live_config.metrics = metrics
    signature = SignatureCheck(auth_token, public_url)
    admin = AdminAuth(settings.admin_token)

    app = falcon.asgi.App(
        middleware=[Lifecycle(live_config, worker, on_startup or [], on_shutdown or [])]
    )
    app.add_route(INBOUND_PATH, InboundResource(signature, live_config, store, worker, metrics))
    app.add_route(STATUS_PATH, StatusResource(signature, store, metrics))
    app.add_route("/healthz", HealthResource())
    app.add_route("/readyz", ReadyResource(live_config, store))
    app.add_route("/metrics", MetricsResource(metrics))
    app.add_route("/api/clients", ClientsResource(live_config, admin))
    app.add_route("/api/reload", ReloadResource(live_config, admin))
    app.add_error_handler(SQLAlchemyError, _store_unavailable)
    return app
