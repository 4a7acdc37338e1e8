"""Reading Twilio's webhook requests: the signed form, checked against HORIZON_PUBLIC_URL.

Behind a proxy the request's own scheme and host are not what Twilio signed, so the URL
is always rebuilt from the configured public URL and the request's path and query.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import falcon
from falcon.asgi import Request, Response
from twilio.request_validator import RequestValidator

MAX_FORM_BYTES = 64 * 1024
MAX_FIELDS = 256
FORM_TYPE = "application/x-www-form-urlencoded"


async def read_form(req: Request) -> dict[str, str]:
    """The request's form fields; 4xx for anything that is not a sane url-encoded form."""
    if (req.content_type or "").split(";")[0].strip().lower() != FORM_TYPE:
        raise falcon.HTTPUnsupportedMediaType(description=f"expected {FORM_TYPE}")
    if req.content_length is not None and req.content_length > MAX_FORM_BYTES:
        raise falcon.HTTPContentTooLarge(description=f"at most {MAX_FORM_BYTES} bytes")
    raw = await req.stream.read(MAX_FORM_BYTES + 1)
    if len(raw) > MAX_FORM_BYTES:
        raise falcon.HTTPContentTooLarge(description=f"at most {MAX_FORM_BYTES} bytes")
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"),
            keep_blank_values=True,
            max_num_fields=MAX_FIELDS,
            errors="strict",
        )
    except (UnicodeDecodeError, ValueError) as error:
        raise falcon.HTTPBadRequest(description=f"malformed form body: {error}") from None
    form = dict(pairs)
    if len(form) != len(pairs):
        raise falcon.HTTPBadRequest(description="a form field is repeated")
    return form


class SignatureCheck:
    """Validates X-Twilio-Signature with twilio's RequestValidator; 403 when absent or wrong."""

    def __init__(self, auth_token: str, public_url: str) -> None:
        self.validator = RequestValidator(auth_token)
        self.public_url = public_url.rstrip("/")

    def url_of(self, req: Request) -> str:
        query = f"?{req.query_string}" if req.query_string else ""
        return f"{self.public_url}{req.path}{query}"

    def verify(self, req: Request, form: dict[str, str]) -> None:
        signature = req.get_header("X-Twilio-Signature")
        if not signature:
            raise falcon.HTTPForbidden(description="missing X-Twilio-Signature")
        if not self.validator.validate(self.url_of(req), form, signature):
            raise falcon.HTTPForbidden(description="invalid X-Twilio-Signature")


async def twilio_signed(req: Request, resp: Response, resource: Any, params: dict) -> None:
    """A `falcon.before` hook: the signed form into `req.context.form`, or a 4xx.

    The resource holds its `signature` (a SignatureCheck); one with a `rejected(error)`
    method hears of every request refused here.
    """
    try:
        form = await read_form(req)
        resource.signature.verify(req, form)
    except falcon.HTTPError as error:
        rejected = getattr(resource, "rejected", None)
        if rejected is not None:
            rejected(error)
        raise
    req.context.form = form


def required(form: dict[str, str], *names: str) -> list[str]:
    """The values of required, non-empty fields; 400 naming the first one missing."""
    values = []
    for name in names:
        value = form.get(name, "").strip()
        if not value:
            raise falcon.HTTPBadRequest(description=f"missing form field {name}")
        values.append(value)
    return values
