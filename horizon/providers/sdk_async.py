"""The asyncio Twilio client for the webhook's worker, honouring `TWILIO_API_BASE`.

OpenAI's asyncio client is `horizon.providers.sdk.async_openai_client`. Here the SDKs never
retry on their own: the worker wraps each call in `horizon.retry.call_async`.
"""

from __future__ import annotations

import base64

import aiohttp
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from horizon.providers.sdk import ApiBaseRewrite
from horizon.settings import Settings

DEFAULT_TIMEOUT = 20.0


class AsyncBaseUrlHttpClient(ApiBaseRewrite, AsyncTwilioHttpClient):
    """Twilio's aiohttp client, honouring `TWILIO_API_BASE` as the synchronous client does."""

    def __init__(self, api_base: str | None, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        # The session is made on first use: aiohttp binds it to the running event loop.
        super().__init__(pool_connections=False, timeout=timeout)
        self.api_base = api_base.rstrip("/") if api_base else None
        self._session: aiohttp.ClientSession | None = None

    async def request(
        self,
        method,
        url,
        params=None,
        data=None,
        headers=None,
        auth=None,
        timeout=None,
        allow_redirects=False,
    ) -> Response:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=256)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout)
            )
        self.session = self._session
        if auth is not None:  # as a header: aiohttp deprecates its BasicAuth helper
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers = {**(headers or {}), "Authorization": f"Basic {token}"}
        return await super().request(  # ApiBaseRewrite maps the URL
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=None,
            # aiohttp reads an explicit None as "no timeout at all"
            timeout=timeout if timeout is not None else self.timeout,
            allow_redirects=allow_redirects,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def async_twilio_client(settings: Settings, *, timeout: float = DEFAULT_TIMEOUT) -> Client:
    """A twilio.rest.Client whose `*_async` methods use aiohttp (raises MissingSetting)."""
    account_sid = settings.require("twilio_account_sid", "to call Twilio")
    auth_token = settings.require("twilio_auth_token", "to call Twilio")
    http_client = AsyncBaseUrlHttpClient(settings.twilio_api_base, timeout=timeout)
    return Client(account_sid, auth_token, http_client=http_client)
