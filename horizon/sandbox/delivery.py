"""Outbound webhooks as Twilio sends them: form POSTs signed with X-Twilio-Signature.

Deliveries run on the server's event loop, so status callbacks never hold up the API
response that caused them.
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

import httpx

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

    def __init__(self, auth_token: str, timeout: float) -> None:
        self._auth_token = auth_token
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task] = set()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._timeout,
                trust_env=False,
                headers={"User-Agent": "TwilioProxy/1.1"},
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            )
        return self._client

    async def send(self, url: str, params: dict[str, str], method: str = "POST") -> Delivered:
        """Send one signed webhook; a failure to connect is reported, never raised."""
        method = (method or "POST").upper()
        target = url
        if method == "GET":
            separator = "&" if "?" in url else "?"
            target, params = f"{url}{separator}{urlencode(params)}", {}
        headers = {"X-Twilio-Signature": twilio_signature(self._auth_token, target, params)}
        try:
            response = await self._http().request(
                method, target, data=params or None, headers=headers
            )
        except httpx.HTTPError as error:
            log.info("webhook to %s failed: %s", url, error)
            return Delivered(url, 0, "", error=f"{type(error).__name__}: {error}")
        return Delivered(url, response.status_code, response.text)

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
        if self._client is not None:
            await self._client.aclose()
            self._client = None
