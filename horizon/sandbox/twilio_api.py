"""What every emulated Twilio endpoint shares: SIDs, dates, Basic auth, error bodies, paging."""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

import falcon

from horizon.sandbox.world import public

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
API_VERSION = "2010-04-01"
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50
API_KEYS = "api_keys"  # the world's collection of API keys, by SID (SK…)


@dataclass
class TwilioError(Exception):
    """An error answered in Twilio's body format: {code, message, more_info, status}."""

    status: int
    code: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)
    detail: str | None = None

    def body(self) -> dict:
        body = {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        return body


def not_found(path: str) -> TwilioError:
    return TwilioError(404, 20404, f"The requested resource {path} was not found")


def invalid(message: str, code: int = 21100) -> TwilioError:
    return TwilioError(400, code, message)


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def rfc2822(timestamp: float) -> str:
    """Twilio's 2010 API dates: 'Thu, 24 Aug 2023 05:01:45 +0000'."""
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(timestamp))


def iso8601(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def check_basic_auth(
    header: str | None,
    account_sid: str,
    auth_token: str,
    key_secret: Callable[[str], str | None] = lambda sid: None,
) -> None:
    """Accept the account SID and auth token, or an API key's SID and secret, as HTTP Basic.

    An API key acts on the account that created it, named in the URL where the path has
    one (https://www.twilio.com/docs/iam/api-keys); `key_secret` finds a key's secret.
    """
    username, password = _basic_credentials(header)
    if username.startswith("SK"):
        secret = key_secret(username)
        accepted = secret is not None and _same(password, secret)
    else:
        accepted = _same(username, account_sid) and _same(password, auth_token)
    if not accepted:
        raise TwilioError(
            401,
            20003,
            "Authenticate",
            headers={"WWW-Authenticate": 'Basic realm="Twilio API"'},
            detail="Your AccountSid or AuthToken was incorrect.",
        )


def _same(given: str, expected: str) -> bool:
    # As bytes: compare_digest refuses str holding anything but ASCII, and a header may.
    return hmac.compare_digest(given.encode(), expected.encode())


def _basic_credentials(header: str | None) -> tuple[str, str]:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    username, _, password = decoded.partition(":")
    return username, password


class Form:
    """A form-encoded body (or query string): repeated keys kept, as Twilio accepts them."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    @classmethod
    def parse(cls, text: str) -> Form:
        return cls(parse_qsl(text, keep_blank_values=True))

    def get(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.pairs:
            if key == name:
                return value
        return default

    def getall(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]

    def __contains__(self, name: str) -> bool:
        return any(key == name for key, _ in self.pairs)


async def read_form(req: falcon.Request) -> Form:
    raw = await req.stream.read()
    try:
        return Form.parse(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise invalid("The request body is not valid UTF-8 form data") from error


def query_form(req: falcon.Request) -> Form:
    return Form.parse(req.query_string or "")


@dataclass(frozen=True)
class Page:
    """One page cut out of an ordered list of records, and how to ask for its neighbours."""

    records: list[dict]
    number: int
    size: int
    start: int
    next_token: str | None
    previous_token: str | None


def cut_page(records: list[dict], query: Form) -> Page:
    """Twilio paging: PageSize, Page (client state) and PageToken ('PA'/'PB' + a record's sid)."""
    size = _int_param(query, "PageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    number = _int_param(query, "Page", 0, 0, 10**9)
    token = query.get("PageToken")
    sids = [record["sid"] for record in records]
    if token and token[:2] in ("PA", "PB") and token[2:] in sids:
        anchor = sids.index(token[2:])
        start = anchor + 1 if token.startswith("PA") else max(0, anchor - size)
    elif token:
        raise invalid(f"Invalid PageToken: {token}", code=20001)
    else:
        start = number * size
    chunk = records[start : start + size]
    has_next = start + size < len(records)
    return Page(
        records=chunk,
        number=number,
        size=size,
        start=start,
        next_token=f"PA{chunk[-1]['sid']}" if chunk and has_next else None,
        previous_token=f"PB{chunk[0]['sid']}" if chunk and start > 0 else None,
    )


def _int_param(query: Form, name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise invalid(f"Invalid {name}: {raw}", code=20001) from error
    if not low <= value <= high:
        raise invalid(f"{name} must be between {low} and {high}", code=20001)
    return value


def page_link(
    path: str, filters: list[tuple[str, str]], page: Page, number: int, token: str | None
) -> str:
    """The path and query string of page `number` of the same listing."""
    params = [*filters, ("PageSize", str(page.size)), ("Page", str(max(0, number)))]
    if token:
        params.append(("PageToken", token))
    return f"{path}?{urlencode(params)}"


def list_2010(
    req: falcon.Request, key: str, records: list[dict], filter_names: tuple[str, ...]
) -> dict:
    """A 2010 API list body: records under `key`, paging links as relative URIs."""
    query = query_form(req)
    page = cut_page(records, query)
    filters = [(name, value) for name, value in query.pairs if name in filter_names]
    path = req.path

    def link(number: int, token: str | None) -> str | None:
        return page_link(path, filters, page, number, token) if token else None

    return {
        key: [public(record) for record in page.records],
        "end": page.start + max(len(page.records) - 1, 0),
        "first_page_uri": page_link(path, filters, page, 0, None),
        "next_page_uri": link(page.number + 1, page.next_token),
        "page": page.number,
        "page_size": page.size,
        "previous_page_uri": link(page.number - 1, page.previous_token),
        "start": page.start,
        "uri": page_link(path, filters, page, page.number, query.get("PageToken")),
    }
