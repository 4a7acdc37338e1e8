"""Wrap Twilio and OpenAI SDK exceptions once, at the provider boundary, as VendorError."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from horizon.retry import VendorError


def to_vendor_error(error: BaseException) -> VendorError | None:
    """The VendorError for an SDK or transport exception, or None for anything else (a bug)."""
    if isinstance(error, VendorError):
        return error
    module = type(error).__module__.split(".")[0]
    if module == "twilio":
        return _from_twilio(error)
    if module == "openai":
        return _from_openai(error)
    if module in ("requests", "urllib3", "aiohttp", "httpx") or isinstance(
        error, ConnectionError | TimeoutError
    ):
        return VendorError("network", f"{type(error).__name__}: {error}")
    return None


def _from_twilio(error: BaseException) -> VendorError | None:
    from twilio.base.exceptions import TwilioRestException

    if isinstance(error, TwilioRestException):
        return VendorError(
            "twilio", error.msg or "request failed", status=error.status, code=error.code
        )
    # A list page fails with a bare TwilioException("Unable to fetch page", response):
    # the status and Twilio's error body are only in that response.
    response = error.args[1] if len(error.args) == 2 else None
    if hasattr(response, "status_code"):
        return _from_twilio_response(response)
    return VendorError("twilio", str(error))


def _from_twilio_response(response: Any) -> VendorError:
    try:
        body = json.loads(response.text)
    except (TypeError, ValueError):
        body = None
    body = body if isinstance(body, dict) else {}
    headers = response.headers or {}
    return VendorError(
        "twilio",
        str(body.get("message") or f"HTTP {response.status_code}"),
        status=response.status_code,
        code=body.get("code"),
        retry_after=_retry_after(headers.get("Retry-After") or headers.get("retry-after")),
    )


def _from_openai(error: BaseException) -> VendorError | None:
    import openai

    if isinstance(error, openai.APIStatusError):
        body = error.body if isinstance(error.body, dict) else {}
        return VendorError(
            "openai",
            str(body.get("message") or error.message),
            status=error.status_code,
            code=body.get("code") or body.get("type"),
            retry_after=_retry_after(error.response.headers.get("retry-after")),
        )
    if isinstance(error, openai.APIConnectionError):
        return VendorError("openai", error.message)
    return None


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: rare from these vendors; back-off covers it


@contextmanager
def vendor_errors() -> Iterator[None]:
    """Re-raise SDK and transport exceptions inside the block as VendorError."""
    try:
        yield
    except Exception as error:
        wrapped = to_vendor_error(error)
        if wrapped is None or wrapped is error:
            raise
        raise wrapped from error
