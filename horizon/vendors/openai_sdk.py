"""Horizon's OpenAI clients, built from Settings: synchronous and asyncio.

Both honour `OPENAI_BASE_URL`, which is how the sandbox, or a proxy, stands in for OpenAI.
The SDK retries rate limits and server errors itself (`max_retries`); callers that wrap
calls in `horizon.vendors.retry` pass `max_retries=0` so retries are not multiplied.
"""

from __future__ import annotations

import openai

from horizon.settings import Settings

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2


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
