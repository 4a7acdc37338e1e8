"""Keep secrets out of plans, summaries and errors: credentials in URLs and known secret values."""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"
# Real credentials are long; masking a short value would mangle ordinary words instead.
MIN_SECRET_LENGTH = 8
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
_SECRET_QUERY = re.compile(
    r"(?P<name>[?&](?:[^=&\s]*(?:token|key|secret|password|signature|auth)[^=&\s]*)=)[^&#\s]*",
    re.IGNORECASE,
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with URL credentials, secret-looking query values and `secrets` masked."""
    for secret in sorted(
        (s for s in secrets if len(s) >= MIN_SECRET_LENGTH), key=len, reverse=True
    ):
        text = text.replace(secret, MASK)
    text = _URL_USERINFO.sub(lambda match: f"{match['scheme']}{MASK}@", text)
    return _SECRET_QUERY.sub(lambda match: f"{match['name']}{MASK}", text)
