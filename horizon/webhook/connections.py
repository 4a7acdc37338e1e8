"""Connection limits for `horizon serve`: at most N connections, each request whole within a
deadline, and slow or idle connections shed first so that Twilio's requests still get in.

uvicorn alone leaves three holes: it has no deadline for a request's head or body (one
byte a minute holds a connection for ever), httptools takes request heads of any size,
and its `limit_concurrency` counts slow connections too, then answers the *real* requests
503. So Horizon accepts connections itself, against a cap derived from the open-file
limit, and tracks what each connection is doing:

- waiting: its request has not fully arrived (nothing sent yet, a head or a body under
  way). It must arrive within `request_timeout` of the connection (or of its first byte
  after a previous response); else the connection is closed.
- busy: the app is answering. Never shed: that is the work being protected.
- idle: between requests (keep-alive); uvicorn closes it after `keep_alive_timeout`.

At the cap, a new connection evicts the one that has gone longest without a request to
answer (waiting or idle); only when every connection is busy is the new one refused (503).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import errno
import functools
import logging
import math
import socket
from dataclasses import dataclass

import uvicorn
from prometheus_client import Counter
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from horizon.telemetry.logs import log_event

# A request head (request line and headers) larger than this is refused (431). Twilio's
# are under 2 KiB; httptools itself has no limit, so without one a single connection can
# send gigabytes of headers into memory. nginx allows 4 x 8 KiB by default, Node 16 KiB.
MAX_HEAD_BYTES = 64 * 1024
# Connections accepted per pass of the event loop. Each holds a file descriptor before it
# can evict anyone, so this is the headroom the cap keeps free; and a new connection can
# only become the oldest (the next evicted) after cap / ACCEPT_BATCH passes, while its
# request (Twilio sends it at once) needs two or three.
ACCEPT_BATCH = 8
MIN_CONNECTIONS = 16  # below this the webhook could not serve Twilio at all
ACCEPT_RETRY_DELAY = 0.1  # after accept() failed (out of descriptors or buffers)
REPORT_EVERY = 10.0  # seconds between `connections_shed` lines while shedding goes on

REFUSED = (
    b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\n"
    b"content-length: 0\r\nconnection: close\r\n\r\n"
)
HEAD_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-length: 0\r\nconnection: close\r\n\r\n"
)


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int  # the cap in force
    request_timeout: float
    keep_alive_timeout: float
    requested: int  # what HORIZON_MAX_CONNECTIONS asked for
    open_files: int | None  # the soft RLIMIT_NOFILE, None where there is none


def open_files_limit() -> int | None:
    """The process's soft limit on open files (`ulimit -n`); None if unlimited or unknown."""
    try:
        import resource
    except ImportError:  # Windows has no such limit
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def connection_limits(
    requested: int,
    request_timeout: float,
    keep_alive_timeout: float,
    reserved_files: int,
    open_files: int | None = None,
) -> ConnectionLimits:
    """The limits in force: `requested` connections at most, and never more than the
    open-file limit leaves once `reserved_files` (what the rest of the process may hold)
    and one accept batch are set aside."""
    open_files = open_files if open_files is not None else open_files_limit()
    cap = requested
    if open_files is not None:
        cap = max(MIN_CONNECTIONS, min(requested, open_files - reserved_files - ACCEPT_BATCH))
    return ConnectionLimits(cap, request_timeout, keep_alive_timeout, requested, open_files)


class ConnectionGuard:
    """The open connections by state, and the one place that sheds them (counted, logged)."""

    def __init__(self, limits: ConnectionLimits, shed_total: Counter) -> None:
        self.limits = limits
        self._shed_total = shed_total
        # Each oldest first: a connection moves to the end when it changes state.
        self.waiting: collections.OrderedDict[GuardedProtocol, None] = collections.OrderedDict()
        self.idle: collections.OrderedDict[GuardedProtocol, None] = collections.OrderedDict()
        self.busy: set[GuardedProtocol] = set()
        self.admitting = 0  # accepted, not yet handed to their protocol
        self._unreported: collections.Counter[str] = collections.Counter()
        self._report: asyncio.TimerHandle | None = None
        self._reported_at = -math.inf

    @property
    def open(self) -> int:
        return len(self.waiting) + len(self.idle) + len(self.busy) + self.admitting

    def make_room(self) -> bool:
        """Reserve a place for a new connection, evicting a slow or idle one if at the cap;
        False (counted as refused) when every connection is busy answering."""
        if self.open >= self.limits.max_connections:
            victim = self._longest_unproductive()
            if victim is None:
                self.count("refused")
                return False
            self.shed(victim, "evicted")
        self.admitting += 1
        return True

    def _longest_unproductive(self) -> GuardedProtocol | None:
        """The connection that has gone longest without a request to answer: waiting for
        one to arrive, or idle since its last response."""
        waiting = next(iter(self.waiting), None)
        idle = next(iter(self.idle), None)
        if waiting is None or idle is None:
            return waiting or idle
        return waiting if waiting.since <= idle.since else idle

    def admission_failed(self) -> None:
        self.admitting = max(0, self.admitting - 1)

    def opened(self, conn: GuardedProtocol) -> None:
        self.admission_failed()
        self._wait(conn)

    def request_started(self, conn: GuardedProtocol) -> None:
        """An idle connection sent its next request's first bytes."""
        self._forget(conn)
        self._wait(conn)

    def request_received(self, conn: GuardedProtocol) -> None:
        if conn.state == "waiting":
            self._forget(conn)
            conn.state = "busy"
            self.busy.add(conn)

    def response_sent(self, conn: GuardedProtocol) -> None:
        if conn.state == "busy":
            self._forget(conn)
            conn.state, conn.since = "idle", conn.loop.time()
            self.idle[conn] = None

    def closed(self, conn: GuardedProtocol) -> None:
        self._forget(conn)
        conn.state = "closed"

    def shed(self, conn: GuardedProtocol, reason: str) -> None:
        """Close `conn` at once (its descriptor is freed now, not after a lingering close)."""
        self.closed(conn)
        conn.transport.abort()
        self.count(reason)

    def count(self, reason: str) -> None:
        self._shed_total.labels(reason).inc()
        self._unreported[reason] += 1
        if self._report is None:
            loop = asyncio.get_running_loop()
            delay = max(0.0, self._reported_at + REPORT_EVERY - loop.time())
            self._report = loop.call_later(delay, self.report)

    def report(self) -> None:
        """One `connections_shed` line for everything shed since the last one: under an
        attack that is one line per REPORT_EVERY seconds, not one per connection."""
        if self._report is not None:
            self._report.cancel()
            self._report = None
        if not self._unreported:
            return
        self._reported_at = asyncio.get_running_loop().time()
        shed = dict(sorted(self._unreported.items()))
        self._unreported.clear()
        log_event(
            "connections_shed",
            level=logging.WARNING,
            open=self.open,
            max_connections=self.limits.max_connections,
            **shed,
        )

    def _wait(self, conn: GuardedProtocol) -> None:
        conn.state, conn.since = "waiting", conn.loop.time()
        self.waiting[conn] = None
        conn.deadline = conn.loop.call_later(
            self.limits.request_timeout, self.shed, conn, "request_timeout"
        )

    def _forget(self, conn: GuardedProtocol) -> None:
        self.waiting.pop(conn, None)
        self.idle.pop(conn, None)
        self.busy.discard(conn)
        if conn.deadline is not None:
            conn.deadline.cancel()
            conn.deadline = None


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, telling the guard how far each connection has got."""

    def __init__(self, guard: ConnectionGuard, **kwargs) -> None:
        super().__init__(**kwargs)
        self.guard = guard
        self.state = "new"
        self.since = 0.0  # loop time it entered its state
        self.deadline: asyncio.TimerHandle | None = None
        self.reading_head = True
        self.head_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.guard.opened(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.closed(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.state == "idle":
            self.guard.request_started(self)
        if self.reading_head:
            self.head_bytes += len(data)
        super().data_received(data)
        too_large = self.reading_head and self.head_bytes > MAX_HEAD_BYTES
        if too_large and not self.transport.is_closing():
            self.transport.write(HEAD_TOO_LARGE)
            self.transport.close()
            self.guard.closed(self)
            self.guard.count("head_too_large")

    def on_headers_complete(self) -> None:
        self.reading_head, self.head_bytes = False, 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.reading_head = True
        self.guard.request_received(self)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.timeout_keep_alive_task is not None:  # uvicorn now awaits the next request
            self.guard.response_sent(self)


class GuardedServer(uvicorn.Server):
    """A uvicorn server that accepts connections itself, through a ConnectionGuard.

    Run it on sockets bound beforehand (`horizon.serving.bind`): `server.run(sockets=[sock])`.
    """

    def __init__(self, config: uvicorn.Config, guard: ConnectionGuard) -> None:
        super().__init__(config)
        self.guard = guard
        self._listening: list[socket.socket] = []
        self._connecting: set[asyncio.Task] = set()
        self._accept_failing = False

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        if not sockets:
            raise ValueError("GuardedServer serves sockets bound beforehand")
        # The lifespan only: uvicorn's own accept loop would take every pending
        # connection (each a descriptor) before any could be shed.
        await super().startup(sockets=[])
        loop = asyncio.get_running_loop()
        factory = functools.partial(
            GuardedProtocol,
            self.guard,
            config=self.config,
            server_state=self.server_state,
            app_state=self.lifespan.state,
            _loop=loop,
        )
        for sock in sockets:
            sock.setblocking(False)
            loop.add_reader(sock.fileno(), self._accept, loop, sock, factory)
            self._listening.append(sock)
        limits = self.guard.limits
        log_event(
            "connection_limits",
            level=logging.WARNING if limits.max_connections < limits.requested else logging.INFO,
            max_connections=limits.max_connections,
            requested=limits.requested,
            open_files=limits.open_files,
            request_timeout=limits.request_timeout,
            keep_alive_timeout=limits.keep_alive_timeout,
        )

    def _accept(self, loop: asyncio.AbstractEventLoop, sock: socket.socket, factory) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                conn, _address = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                if error.errno == errno.ECONNABORTED:
                    continue
                self._pause_accepting(loop, sock, factory, error)
                return
            self._accept_failing = False
            conn.setblocking(False)
            if not self.guard.make_room():
                with contextlib.suppress(OSError):
                    conn.send(REFUSED)
                conn.close()
                continue
            if conn.family in (socket.AF_INET, socket.AF_INET6):
                # Without it every response waits ~40 ms for a delayed ACK.
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            task = loop.create_task(self._connect(loop, conn, factory))
            self._connecting.add(task)
            task.add_done_callback(self._connecting.discard)

    async def _connect(self, loop: asyncio.AbstractEventLoop, conn: socket.socket, factory):
        try:
            await loop.connect_accepted_socket(factory, conn)
        except BaseException as error:  # the peer went away first, or the server is stopping
            self.guard.admission_failed()
            conn.close()
            if not isinstance(error, OSError):
                raise

    def _pause_accepting(self, loop, sock: socket.socket, factory, error: OSError) -> None:
        """Out of descriptors (or kernel buffers): stop accepting for a moment, as asyncio
        does, rather than spin; the connections wait in the listen backlog meanwhile."""
        if not self._accept_failing:
            log_event("accept_failed", level=logging.ERROR, error=error.strerror)
            self._accept_failing = True
        loop.remove_reader(sock.fileno())

        def resume() -> None:
            if sock in self._listening:
                loop.add_reader(sock.fileno(), self._accept, loop, sock, factory)

        loop.call_later(ACCEPT_RETRY_DELAY, resume)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()
        for sock in self._listening:
            loop.remove_reader(sock.fileno())
        self._listening.clear()
        await super().shutdown(sockets=sockets)
        self.guard.report()
