"""Outbound webhooks as Twilio sends them: form POSTs signed with X-Twilio-Signature.

Deliveries run on the server's event loop, so status callbacks never hold up the API
response that caused them. They go through aiohttp, whose connection pool stays cheap with
thousands of callbacks queued (httpx's pool scans every queued request for each one).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp

log = logging.getLogger(__name__)


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """HMAC-SHA1 over the URL followed by each parameter's name and value, sorted by name."""
    payload = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class Delivered:
    """What the receiving server answered (status 0 when it could not be reached)."""

    url: str
    status: int
    body: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def as_json(self) -> dict:
        return {"url": self.url, "status": self.status, "body": self.body, "error": self.error}


class Delivery:
    """Signs and sends webhooks; keeps background deliveries alive until they finish."""

    def __init__(self, auth_token: str, timeout: float, connections: int = 64) -> None:
        self._auth_token = auth_token
        self._timeout = timeout
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task] = set()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                headers={"User-Agent": "TwilioProxy/1.1"},
                trust_env=False,
            )
        return self._session

    async def send(self, url: str, params: dict[str, str], method: str = "POST") -> Delivered:
        """Send one signed webhook; a failure to connect is reported, never raised."""
        method = (method or "POST").upper()
        target = url
        if method == "GET":
            separator = "&" if "?" in url else "?"
            target, params = f"{url}{separator}{urlencode(params)}", {}
        headers = {"X-Twilio-Signature": twilio_signature(self._auth_token, target, params)}
        body = None
        if params:
            body = urlencode(params).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            async with self._http().request(method, target, data=body, headers=headers) as response:
                return Delivered(url, response.status, await response.text())
        except (aiohttp.ClientError, TimeoutError, UnicodeDecodeError) as error:
            log.info("webhook to %s failed: %s", url, error)
            return Delivered(url, 0, "", error=f"{type(error).__name__}: {error}")

    def spawn(self, work: Coroutine) -> None:
        """Run `work` in the background, keeping a reference so it is not collected early."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self, grace: float = 2.0) -> None:
        """Let running deliveries finish for up to `grace` seconds, then stop."""
        pending = list(self._tasks)
        if pending:
            _, still_running = await asyncio.wait(pending, timeout=grace)
            for task in still_running:
                task.cancel()
        if self._session is not None:
            await self._session.close()
            self._session = None
