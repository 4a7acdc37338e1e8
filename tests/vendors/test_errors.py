"""SDK exceptions become VendorError with the vendor's status, code and Retry-After."""

from __future__ import annotations

import httpx
import openai
import pytest
from twilio.base.exceptions import TwilioRestException

from horizon.vendors.errors import VendorError, vendor_errors


def openai_error(status: int, body: dict, headers: dict | None = None) -> openai.APIStatusError:
    request = httpx.Request("POST", "http://127.0.0.1/v1/responses")
    response = httpx.Response(status, json={"error": body}, headers=headers, request=request)
    return openai.OpenAI(api_key="k", base_url="http://127.0.0.1/v1")._make_status_error(
        body["message"], body=body, response=response
    )


def raised_inside(error: BaseException) -> VendorError:
    with pytest.raises(VendorError) as caught, vendor_errors():
        raise error
    return caught.value


def test_twilio_rest_exception_keeps_status_and_code() -> None:
    error = raised_inside(TwilioRestException(401, "/v2/Channels/Senders", "Authenticate", 20003))

    assert (error.vendor, error.status, error.code) == ("twilio", 401, 20003)
    assert not error.transient


def test_openai_rate_limit_keeps_retry_after() -> None:
    body = {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}

    error = raised_inside(openai_error(429, body, {"retry-after": "2"}))

    assert isinstance(error.__cause__, openai.RateLimitError)
    assert (error.status, error.code, error.retry_after) == (429, "rate_limit_exceeded", 2.0)
    assert error.transient


def test_connection_failures_are_transient() -> None:
    request = httpx.Request("POST", "http://127.0.0.1/v1/responses")

    error = raised_inside(openai.APIConnectionError(request=request))

    assert error.status is None and error.transient


def test_other_exceptions_pass_through_unchanged() -> None:
    with pytest.raises(ZeroDivisionError), vendor_errors():
        1 / 0  # noqa: B018


def test_twilio_page_failure_keeps_status_code_and_retry_after() -> None:
    from twilio.base.exceptions import TwilioException
    from twilio.http.response import Response

    body = '{"code": 20003, "message": "Authenticate", "status": 401}'
    unauthorised = raised_inside(
        TwilioException("Unable to fetch page", Response(401, body, {"Retry-After": "1"}))
    )
    limited = raised_inside(TwilioException("Unable to fetch page", Response(429, "", {})))

    assert (unauthorised.status, unauthorised.code, unauthorised.message) == (
        401,
        20003,
        "Authenticate",
    )
    assert not unauthorised.transient and unauthorised.retry_after == 1.0
    assert limited.status == 429 and limited.transient
