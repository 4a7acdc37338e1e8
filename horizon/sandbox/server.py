"""Running the sandbox under uvicorn: in the foreground (the CLI) or on a background thread.

`start_in_thread()` serves on a free loopback port and returns a handle whose `env()` is
what points Horizon at it (TWILIO_API_BASE, OPENAI_BASE_URL, credentials).
"""

from __future__ import annotations

import gc
import socket
from collections.abc import Callable
from dataclasses import dataclass

import uvicorn

from horizon.sandbox import DEFAULT_HOST
from horizon.sandbox.app import create_app
from horizon.sandbox.context import Sandbox
from horizon.sandbox.middleware import ConnectionDropper
from horizon.sandbox.options import SandboxOptions
from horizon.sandbox.recorder import Observer, RequestRecorder
from horizon.sandbox.twilio_numbers import seed_numbers
from horizon.serving import AnnouncingServer, ServerThread, bind, start_thread, url_of

__all__ = ["RunningSandbox", "bind", "run", "sandbox_env", "start_in_thread", "url_of"]


def sandbox_env(url: str, options: SandboxOptions) -> dict[str, str]:
    """The environment that points Horizon (and the vendor SDKs) at a sandbox."""
    return {
        "TWILIO_API_BASE": url,
        "OPENAI_BASE_URL": f"{url}/v1",
        "TWILIO_ACCOUNT_SID": options.account_sid,
        "TWILIO_AUTH_TOKEN": options.auth_token,
        "OPENAI_API_KEY": options.openai_key,
    }


def prepare(
    options: SandboxOptions, observer: Observer | None = None
) -> tuple[Sandbox, uvicorn.Server]:
    """The sandbox's world (numbers from the options seeded) and a server ready to run it.

    `observer`, if given, receives every vendor request (contract tests check them).
    """
    sandbox = Sandbox.from_options(options)
    seed_numbers(sandbox, list(options.numbers))
    app = ConnectionDropper(create_app(sandbox))
    config = uvicorn.Config(
        RequestRecorder(app, observer) if observer is not None else app,
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=3,
        backlog=4096,
    )
    return sandbox, AnnouncingServer(config)


def run(
    options: SandboxOptions, sock: socket.socket, on_started: Callable[[], None] | None = None
) -> None:
    """Serve on `sock` in the foreground until interrupted (Ctrl-C, SIGTERM).

    `on_started` runs once the sandbox accepts requests and a Ctrl-C would stop it cleanly.
    """
    sandbox, server = prepare(options)
    server.on_started = on_started
    # Exempt the start-up heap from garbage collection: full collections walking it stall
    # the event loop for tens of milliseconds under load.
    gc.collect()
    gc.freeze()
    try:
        server.run(sockets=[sock])
    finally:
        sandbox.world.close()


@dataclass
class RunningSandbox:
    """A sandbox serving on a background thread; `stop()` (or leaving `with`) shuts it down."""

    url: str
    options: SandboxOptions
    sandbox: Sandbox
    _serving: ServerThread

    @property
    def twilio_api_base(self) -> str:
        return self.url

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    def env(self) -> dict[str, str]:
        return sandbox_env(self.url, self.options)

    def stop(self) -> None:
        self._serving.stop()
        self.sandbox.world.close()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_in_thread(
    options: SandboxOptions | None = None,
    host: str = DEFAULT_HOST,
    port: int = 0,
    ready_timeout: float = 10.0,
    observer: Observer | None = None,
) -> RunningSandbox:
    """Start a sandbox on `host:port` (0: a free port) and return once it accepts requests."""
    options = options or SandboxOptions()
    sock = bind(host, port)
    sandbox, server = prepare(options, observer)
    try:
        serving = start_thread(server, sock, "horizon-sandbox", ready_timeout)
    except RuntimeError:
        sandbox.world.close()
        raise
    return RunningSandbox(url_of(sock), options, sandbox, serving)
