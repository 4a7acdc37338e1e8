"""Horizon's Twilio clients, built from Settings: synchronous (requests) and asyncio (aiohttp).

Both honour `TWILIO_API_BASE`, which is how the sandbox, or a proxy, stands in for Twilio,
and authenticate with the API key (`TWILIO_API_KEY`/`TWILIO_API_SECRET`) when one is set,
else with the auth token. The synchronous client can retry rate limits and idempotent
requests itself (`max_retries`); callers that wrap calls in `horizon.vendors.retry` pass
`max_retries=0` so retries are not multiplied. The asyncio client never retries on its own.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

import aiohttp
from requests.adapters import HTTPAdapter
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.util.retry import Retry

from horizon.settings import Settings

DEFAULT_TIMEOUT = 30.0
DEFAULT_ASYNC_TIMEOUT = 20.0
DEFAULT_MAX_RETRIES = 2
_TWILIO_ORIGIN = re.compile(r"^https://(?:[A-Za-z0-9-]+\.)*twilio\.com(?=[/?]|$)")


class TwilioRetry(Retry):
    """urllib3 retries as Twilio allows them.

    A 429 is retried for every method, since the request was refused before any work;
    500/502/503/504 and dropped reads only for idempotent methods, so a POST that may
    have sent a message is never sent twice. Retry-After is honoured.
    """

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 429:
            return bool(self.total)
        return super().is_retry(method, status_code, has_retry_after)


def twilio_retry(max_retries: int) -> TwilioRetry:
    return TwilioRetry(
        total=max_retries,
        status_forcelist=(500, 502, 503, 504),
        backoff_factor=0.5,
        backoff_jitter=0.25,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


class ApiBaseRewrite:
    """Sends `https://<any>.twilio.com/<path>` to `{api_base}/<path>` (when one is set).

    Mixed in before Twilio's synchronous or asyncio HTTP client; Twilio's client always
    passes everything but the method and URL by keyword.
    """

    api_base: str | None = None

    def rewrite(self, url: str) -> str:
        if not self.api_base:
            return url
        origin = _TWILIO_ORIGIN.match(url)
        return self.api_base + url[origin.end() :] if origin else url

    def request(self, method: str, url: str, **options: Any) -> Any:
        return super().request(method, self.rewrite(url), **options)  # type: ignore[misc]


class BaseUrlHttpClient(ApiBaseRewrite, TwilioHttpClient):
    """Twilio's HTTP client, honouring `TWILIO_API_BASE`, retrying as `twilio_retry` says."""

    def __init__(
        self,
        api_base: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> None:
        super().__init__(timeout=timeout)
        self.api_base = api_base.rstrip("/") if api_base else None
        # The stock client mounts its retrying adapter for https:// only; the sandbox is http://.
        adapter = HTTPAdapter(max_retries=twilio_retry(max_retries), pool_maxsize=32)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)


class AsyncBaseUrlHttpClient(ApiBaseRewrite, AsyncTwilioHttpClient):
    """Twilio's aiohttp client, honouring `TWILIO_API_BASE` as the synchronous client does."""

    def __init__(self, api_base: str | None, *, timeout: float = DEFAULT_ASYNC_TIMEOUT) -> None:
        # The session is made on first use: aiohttp binds it to the running event loop.
        super().__init__(pool_connections=False, timeout=timeout)
        self.api_base = api_base.rstrip("/") if api_base else None
        self._session: aiohttp.ClientSession | None = None

    async def request(self, method: str, url: str, **options: Any) -> Any:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=256)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout)
            )
        self.session = self._session
        auth = options.pop("auth", None)
        if auth is not None:  # as a header: aiohttp deprecates its BasicAuth helper
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers = options.get("headers") or {}
            options["headers"] = {**headers, "Authorization": f"Basic {token}"}
        if options.get("timeout") is None:  # aiohttp reads an explicit None as "no timeout"
            options["timeout"] = self.timeout
        return await super().request(method, url, auth=None, **options)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


@dataclass(frozen=True)
class Credentials:
    """What `twilio.rest.Client` takes: a username and password, and the account they act on."""

    username: str
    password: str
    account_sid: str

    def client(self, http_client: TwilioHttpClient | AsyncTwilioHttpClient) -> Client:
        return Client(
            self.username, self.password, account_sid=self.account_sid, http_client=http_client
        )


def credentials(settings: Settings) -> Credentials:
    """The API key when one is set, else the auth token (raises MissingSetting naming a variable).

    Twilio takes an API key as Basic auth (key SID, secret) with the account named in the
    URL: https://www.twilio.com/docs/usage/requests-to-twilio. Half a key is an error rather
    than a silent fall back to the auth token.
    """
    account_sid = settings.require("twilio_account_sid", "to call Twilio")
    if settings.twilio_api_key or settings.twilio_api_secret:
        key = settings.require("twilio_api_key", "with TWILIO_API_SECRET to call Twilio")
        secret = settings.require("twilio_api_secret", "with TWILIO_API_KEY to call Twilio")
        return Credentials(key, secret, account_sid)
    token = settings.require(
        "twilio_auth_token", "to call Twilio (or set TWILIO_API_KEY and TWILIO_API_SECRET)"
    )
    return Credentials(account_sid, token, account_sid)


def twilio_client(
    settings: Settings,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> Client:
    """A twilio.rest.Client for the configured account (raises MissingSetting without one)."""
    http_client = BaseUrlHttpClient(
        settings.twilio_api_base, timeout=timeout, max_retries=max_retries
    )
    return credentials(settings).client(http_client)


def async_twilio_client(settings: Settings, *, timeout: float = DEFAULT_ASYNC_TIMEOUT) -> Client:
    """A twilio.rest.Client whose `*_async` methods use aiohttp (raises MissingSetting)."""
    http_client = AsyncBaseUrlHttpClient(settings.twilio_api_base, timeout=timeout)
    return credentials(settings).client(http_client)
