"""Horizon's Twilio and OpenAI SDK clients, built from Settings.

Both honour a base-URL override (`TWILIO_API_BASE`, `OPENAI_BASE_URL`), which is how the
sandbox, or a proxy, stands in for the real services. Both SDKs retry rate limits and
server errors themselves (`max_retries`); callers that wrap calls in `horizon.retry`
pass `max_retries=0` so retries are not multiplied.
"""

from __future__ import annotations

import re

import openai
from requests.adapters import HTTPAdapter
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.util.retry import Retry

from horizon.settings import Settings

DEFAULT_TIMEOUT = 30.0
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
    """For Twilio's HTTP clients: sends `https://<any>.twilio.com/<path>` to `{api_base}/<path>`.

    Mixed in before Twilio's synchronous or asyncio client; for the latter, `request`
    hands back the coroutine its base class returns, for the caller to await.
    """

    api_base: str | None = None

    def rewrite(self, url: str) -> str:
        if not self.api_base:
            return url
        origin = _TWILIO_ORIGIN.match(url)
        return self.api_base + url[origin.end() :] if origin else url

    def request(
        self,
        method,
        url,
        params=None,
        data=None,
        headers=None,
        auth=None,
        timeout=None,
        allow_redirects=False,
    ):
        return super().request(
            method,
            self.rewrite(url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


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


def twilio_client(
    settings: Settings,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> Client:
    """A twilio.rest.Client for the configured account (raises MissingSetting without one)."""
    account_sid = settings.require("twilio_account_sid", "to call Twilio")
    auth_token = settings.require("twilio_auth_token", "to call Twilio")
    http_client = BaseUrlHttpClient(
        settings.twilio_api_base, timeout=timeout, max_retries=max_retries
    )
    return Client(account_sid, auth_token, http_client=http_client)


def openai_client(
    settings: Settings,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> openai.OpenAI:
    """An openai.OpenAI client (raises MissingSetting without an API key)."""
    return openai.OpenAI(
        api_key=settings.require("openai_api_key", "to call OpenAI"),
        base_url=settings.openai_base_url or None,
        timeout=timeout,
        max_retries=max_retries,
    )


def async_openai_client(
    settings: Settings,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> openai.AsyncOpenAI:
    """The asyncio flavour of `openai_client`, for the webhook's worker.

    Its HTTP transport is aiohttp: with hundreds of turns in flight, the default httpx
    pool spends more CPU choosing a connection for each request than the request costs.
    """
    return openai.AsyncOpenAI(
        api_key=settings.require("openai_api_key", "to call OpenAI"),
        base_url=settings.openai_base_url or None,
        timeout=timeout,
        max_retries=max_retries,
        http_client=openai.DefaultAioHttpClient(timeout=timeout),
    )
