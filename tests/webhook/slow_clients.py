"""A slowloris for the connection-limit tests: many connections, each trickling a request head
that never ends, reopened whenever the server drops one (as the real tool does)."""

from __future__ import annotations

import resource
import socket
import threading
import time

import pytest

HEAD = b"POST /twilio/inbound HTTP/1.1\r\nHost: bots.example.com\r\nX-Slow: "


def enough_open_files(needed: int) -> None:
    """Let this test process hold `needed` sockets (raising its soft limit), or skip."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"needs {needed} open files; the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


class SlowClients:
    """`count` connections to 127.0.0.1:`port`; every `interval` seconds each sends one more
    byte of a header, and a dropped one is opened again. `idle=True`: they send nothing."""

    def __init__(self, port: int, count: int, interval: float = 0.5, idle: bool = False) -> None:
        self.port, self.count, self.interval, self.idle = port, count, interval, idle
        self.opened = 0  # connections made, reopened ones included
        self.dropped = 0  # connections the server closed
        self._sockets: list[socket.socket | None] = [None] * count
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slow-clients", daemon=True)

    def __enter__(self) -> SlowClients:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(10)
        for sock in self._sockets:
            if sock is not None:
                sock.close()

    def wait_opened(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.opened < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.opened >= count, f"only {self.opened} of {count} connections opened"

    def _run(self) -> None:
        while not self._stop.is_set():
            for index in range(self.count):
                if self._stop.is_set():
                    return
                self._sockets[index] = self._tick(self._sockets[index])
            self._stop.wait(self.interval)

    def _tick(self, sock: socket.socket | None) -> socket.socket | None:
        try:
            if sock is None:
                sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
                if not self.idle:
                    sock.sendall(HEAD)
                self.opened += 1
            elif self.idle:
                if sock.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b"":
                    raise ConnectionResetError  # the server closed it
            else:
                sock.send(b"x")
            return sock
        except BlockingIOError:  # idle and still open
            return sock
        except OSError:
            if sock is not None:
                sock.close()
                self.dropped += 1
            return None
