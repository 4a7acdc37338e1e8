"""What every emulated OpenAI endpoint shares: ids, bearer auth, error bodies, cursor paging."""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

import falcon

from horizon.sandbox.world import public

INVALID_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
    "sent was not valid JSON.)"
)


@dataclass
class OpenAIError(Exception):
    """An error answered in OpenAI's body format: {"error": {message, type, param, code}}."""

    status: int
    message: str
    type: str = "invalid_request_error"
    param: str | None = None
    code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


def not_found(message: str, param: str | None = None) -> OpenAIError:
    return OpenAIError(404, message, param=param)


def invalid(message: str, param: str | None = None, code: str | None = None) -> OpenAIError:
    return OpenAIError(400, message, param=param, code=code)


def missing(param: str) -> OpenAIError:
    return invalid(
        f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
    )


def new_id(prefix: str, length: int = 48) -> str:
    return prefix + secrets.token_hex(length // 2)


def check_bearer(header: str | None, api_key: str) -> None:
    scheme, _, token = (header or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise OpenAIError(
            401,
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        )
    if not hmac.compare_digest(token, api_key):
        shown = f"{token[:3]}{'*' * 6}{token[-4:]}" if len(token) > 8 else token
        raise OpenAIError(
            401,
            f"Incorrect API key provided: {shown}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
        )


async def read_json(req: falcon.Request) -> dict:
    raw = await req.stream.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise invalid(INVALID_JSON) from error
    if not isinstance(body, dict):
        raise invalid(INVALID_JSON)
    return body


def metadata_param(body: dict) -> dict | None:
    """Validate `metadata`: at most 16 string pairs, keys <= 64 and values <= 512 characters."""
    metadata = body.get("metadata")
    if metadata is None:
        return None
    if not isinstance(metadata, dict) or len(metadata) > 16:
        raise invalid("Invalid 'metadata': expected an object with at most 16 keys.", "metadata")
    for key, value in metadata.items():
        if len(key) > 64 or not isinstance(value, str) or len(value) > 512:
            raise invalid(
                f"Invalid 'metadata.{key}': keys are at most 64 characters and values are "
                "strings of at most 512 characters.",
                "metadata",
            )
    return metadata


def cursor_page(
    req: falcon.Request,
    records: list[dict],
    max_limit: int = 100,
    render: Callable[[dict], dict] = public,
) -> dict:
    """OpenAI list paging: limit, order (asc|desc by creation), after / before (object ids)."""
    limit = _limit(req.get_param("limit"), max_limit)
    order = req.get_param("order") or "desc"
    if order not in ("asc", "desc"):
        raise invalid(f"Invalid value for 'order': '{order}'. Expected 'asc' or 'desc'.", "order")
    ordered = records if order == "asc" else records[::-1]
    ids = [record["id"] for record in ordered]
    start, end = 0, len(ordered)
    after, before = req.get_param("after"), req.get_param("before")
    if after:
        start = ids.index(after) + 1 if after in ids else end
    if before:
        end = ids.index(before) if before in ids else 0
    chunk = ordered[start:end][:limit]
    return {
        "object": "list",
        "data": [render(record) for record in chunk],
        "first_id": chunk[0]["id"] if chunk else None,
        "last_id": chunk[-1]["id"] if chunk else None,
        "has_more": start + len(chunk) < end,
    }


def _limit(raw: str | None, max_limit: int) -> int:
    if raw in (None, ""):
        return min(20, max_limit) if max_limit <= 100 else max_limit
    try:
        limit = int(raw)
    except ValueError as error:
        raise invalid(f"Invalid 'limit': expected an integer, got '{raw}'.", "limit") from error
    if not 1 <= limit <= max_limit:
        raise invalid(
            f"Invalid 'limit': integer out of range. Expected a value between 1 and {max_limit}.",
            "limit",
        )
    return limit
