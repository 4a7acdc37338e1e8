"""One error type for every failed vendor call, made once where an SDK raises.

`VendorError` carries the vendor's status, code and message; whether it is worth retrying
follows from its status unless the raiser says so explicitly, as kopf's handlers do with
`TemporaryError` (wait and try again) and `PermanentError` (retrying cannot help).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

TRANSIENT_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
# Answers after which a request may or may not have taken effect: the vendor timed out or
# failed while working on it. A 429 or 409 is a refusal: nothing was done.
AMBIGUOUS_STATUSES = frozenset({408, 500, 502, 503, 504})


class VendorError(Exception):
    """A failed Twilio or OpenAI call, wrapped once at the SDK boundary.

    `status` is None when no HTTP answer came back (connection refused, timeout).
    """

    def __init__(
        self,
        vendor: str,
        message: str,
        *,
        status: int | None = None,
        code: str | int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.vendor, self.status, self.code = vendor, status, code
        self.message, self.retry_after = message, retry_after
        code_text = f" {code}" if code not in (None, "") else ""
        if status is None:
            super().__init__(f"{vendor}: no response{code_text}: {message}")
        else:
            super().__init__(f"{vendor} HTTP {status}{code_text}: {message}")

    @property
    def transient(self) -> bool:
        """Worth retrying: rate limits, server errors, and calls that got no answer."""
        return self.status is None or self.status in TRANSIENT_STATUSES

    @property
    def ambiguous(self) -> bool:
        """The request may have taken effect: no answer came, or the vendor failed mid-way.

        A request that is not idempotent (send a message, create a store) must not be
        repeated after such an error before looking whether its first attempt took effect.
        """
        return self.status is None or self.status in AMBIGUOUS_STATUSES

    @classmethod
    def like(cls, error: VendorError) -> VendorError:
        """`error` again as this class (its vendor, message, status and code kept)."""
        return cls(
            error.vendor,
            error.message,
            status=error.status,
            code=error.code,
            retry_after=error.retry_after,
        )


class TemporaryError(VendorError):
    """Retried whatever its status: the vendor asked to wait (a conversation still busy)."""

    @property
    def transient(self) -> bool:
        return True


class BusyError(TemporaryError):
    """Another request is still working on the same thing (OpenAI's conversation_locked).

    Retried, and ambiguous: the request still working may be an earlier attempt of ours.
    """

    @property
    def ambiguous(self) -> bool:
        return True


class PermanentError(VendorError):
    """Never retried, whatever its status: another attempt cannot succeed."""

    @property
    def transient(self) -> bool:
        return False


class AlreadyExists(PermanentError):
    """A create found the resource already there (its first attempt's answer was lost).

    The next plan sees the resource and updates it instead.
    """


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
