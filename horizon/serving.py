"""Running an ASGI app under uvicorn on a socket bound beforehand, in the foreground or on a
thread; shared by the webhook (`horizon serve`) and the sandbox (`horizon sandbox`).

    sock = bind("127.0.0.1", 0)                  # a free port, known before serving
    running = start_thread(server, sock, "horizon-sandbox")
    print(url_of(sock)); running.stop()
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import uvicorn


class AnnouncingServer(uvicorn.Server):
    """A uvicorn server that says when it is up: `on_started` runs once it accepts requests.

    Only then are its signal handlers in place, so a Ctrl-C that follows the announcement
    always reaches a server that can stop cleanly.
    """

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None] | None = None):
        super().__init__(config)
        self.on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self.on_started is not None:
            self.on_started()


def bind(host: str, port: int, backlog: int = 4096) -> socket.socket:
    """A listening socket, made before the server runs.

    Port 0 thus yields a known free port, and clients that connect before the server's
    loop starts wait in the backlog instead of being refused.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose
    # protocol says TCP, and without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    """The http:// base URL a bound socket serves."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@dataclass
class ServerThread:
    """A uvicorn server running on a background thread."""

    server: uvicorn.Server
    thread: threading.Thread

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to exit (graceful shutdown, lifespan included) and wait for it."""
        self.server.should_exit = True
        self.thread.join(timeout=timeout)


def start_thread(
    server: uvicorn.Server, sock: socket.socket, name: str, ready_timeout: float = 10.0
) -> ServerThread:
    """Serve on `sock` from a daemon thread; returns once the server accepts requests.

    Raises RuntimeError if it stops or is not up within `ready_timeout` seconds.
    """
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + ready_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"{name} did not start")
        time.sleep(0.01)
    return ServerThread(server, thread)
