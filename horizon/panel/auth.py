"""Who may see the panel: the admin token, traded at the login page for a session cookie.

Sessions are random ids kept in this process (a restart logs everyone out); the cookie
carries only the id, and the table keys them by their SHA-256, so neither a timing of the
lookup nor a dump of the table gives a usable id away. Failed logins are counted per
client address: past `LOGIN_ATTEMPTS` in `LOGIN_WINDOW_S` the login answers 429 until the
oldest failure ages out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable

SESSION_COOKIE = "horizon_session"
SESSION_TTL_S = 12 * 3600.0  # a working day; then the token is asked for again
LOGIN_ATTEMPTS = 5
LOGIN_WINDOW_S = 60.0


def token_matches(given: str, token: str) -> bool:
    """Constant-time comparison of what was typed with HORIZON_ADMIN_TOKEN.

    Bytes, not str: compare_digest refuses str holding non-ASCII characters.
    """
    return hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


class Sessions:
    """Server-side sessions: `open()` gives a new id, `valid(id)` checks it, `close(id)` ends it."""

    def __init__(
        self, ttl_s: float = SESSION_TTL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s, self.clock = ttl_s, clock
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def open(self) -> str:
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            self._forget_expired()
            self._expiry[_digest(session_id)] = self.clock() + self.ttl_s
        return session_id

    def valid(self, session_id: str | None) -> bool:
        if not session_id:
            return False
        with self._lock:
            expiry = self._expiry.get(_digest(session_id))
            return expiry is not None and expiry > self.clock()

    def close(self, session_id: str | None) -> None:
        if session_id:
            with self._lock:
                self._expiry.pop(_digest(session_id), None)

    def _forget_expired(self) -> None:
        now = self.clock()
        for key in [key for key, expiry in self._expiry.items() if expiry <= now]:
            del self._expiry[key]


class LoginThrottle:
    """Failed login attempts per client address in a sliding window."""

    def __init__(
        self,
        attempts: int = LOGIN_ATTEMPTS,
        window_s: float = LOGIN_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.attempts, self.window_s, self.clock = attempts, window_s, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, address: str) -> int | None:
        """Seconds until `address` may try again; None when it may now."""
        with self._lock:
            failures = self._recent(address)
            if len(failures) < self.attempts:
                return None
            return max(1, int(failures[0] + self.window_s - self.clock() + 0.999))

    def failed(self, address: str) -> None:
        with self._lock:
            self._recent(address).append(self.clock())

    def _recent(self, address: str) -> deque[float]:
        failures = self._failures.setdefault(address, deque())
        while failures and failures[0] <= self.clock() - self.window_s:
            failures.popleft()
        if len(self._failures) > 10_000:  # a flood of addresses must not grow without bound
            for stale in [a for a, f in self._failures.items() if not f and a != address]:
                del self._failures[stale]
        return failures
