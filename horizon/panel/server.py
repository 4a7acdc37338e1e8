"""Running the panel under uvicorn: in the foreground (`horizon panel`) or on a thread (tests,
`horizon demo --keep-running`).

    with start_in_thread(settings, store, clients_dir, drift) as panel:
        print(panel.url)                       # log in with settings.admin_token
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import falcon.asgi
import uvicorn

from horizon.panel.app import create_app
from horizon.serving import ServerThread, bind, start_thread, url_of
from horizon.settings import Settings
from horizon.store.store import Store

if TYPE_CHECKING:  # the checker is started and stopped by the caller
    from horizon.ops.drift import DriftChecker


class PanelStartupError(Exception):
    """The panel cannot start; the message says why in one line."""


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings, host: str) -> None:
    """Refuse to listen beyond loopback without HORIZON_ADMIN_TOKEN."""
    if not settings.admin_token and not is_loopback(host):
        raise PanelStartupError(
            f"HORIZON_ADMIN_TOKEN is not set; the panel listens on {host} only with it "
            "(or on 127.0.0.1, where it makes up a token for this run)"
        )


def server_for(app: falcon.asgi.App) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_config=None,
        access_log=False,
        ws="none",
        timeout_keep_alive=5,
        timeout_graceful_shutdown=5,
    )
    return uvicorn.Server(config)


def bind_panel(host: str, port: int) -> socket.socket:
    try:
        return bind(host, port)
    except OSError as error:
        raise PanelStartupError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def serve(
    settings: Settings,
    store: Store,
    clients_dir: Path,
    drift: DriftChecker | None,
    sock: socket.socket,
) -> None:
    """Serve on the bound `sock` in the foreground until SIGINT/SIGTERM."""
    server_for(create_app(settings, store, clients_dir, drift)).run(sockets=[sock])


@dataclass
class RunningPanel:
    """A panel serving on a background thread; `stop()` (or leaving `with`) shuts it down."""

    url: str
    token: str
    _serving: ServerThread = field(repr=False)

    def stop(self, timeout: float = 10.0) -> None:
        self._serving.stop(timeout)

    def __enter__(self) -> RunningPanel:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_in_thread(
    settings: Settings,
    store: Store,
    clients_dir: Path,
    drift: DriftChecker | None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    ready_timeout: float = 10.0,
) -> RunningPanel:
    """Start the panel on `host:port` (0: a free port); returns once it accepts requests.

    `settings.admin_token` is the login token (required). The store and the drift checker
    stay the caller's to close and stop.
    """
    check_exposure(settings, host)
    app = create_app(settings, store, clients_dir, drift)
    sock = bind_panel(host, port)
    serving = start_thread(server_for(app), sock, "horizon-panel", ready_timeout)
    return RunningPanel(url_of(sock), str(settings.admin_token), serving)


@contextmanager
def run_beside(
    settings: Settings, clients_dir: Path, host: str = "127.0.0.1", port: int = 0
) -> Iterator[RunningPanel]:
    """A panel with its own store connection and drift checker, all stopped on leaving
    (`horizon demo --keep-running` runs one beside its webhook)."""
    from horizon.ops.drift import DriftChecker

    store = Store.open(settings.database_url)
    drift = DriftChecker(settings, clients_dir)
    drift.start()
    try:
        with start_in_thread(settings, store, clients_dir, drift, host, port) as panel:
            yield panel
    finally:
        drift.stop()
        store.close()
