"""One JSON line per event, with client id, message sid and event name; numbers masked.

log_event("inbound_stored", client="pizzeria-roma", sid="SM…", user="whatsapp:+34600…")
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time

LOGGER = logging.getLogger("horizon.events")
# A phone number inside any text (a vendor's error message, a repr): '+' and 7 to 15
# digits, E.164's range. Sids, ids and other digit runs have no '+' and are left alone.
_PHONE = re.compile(r"(?<![\w+])\+\d{7,15}(?!\d)")
# In fields that hold nothing but a number, every run of digits is one.
_DIGITS = re.compile(r"\d{5,}")


def _keep_last_4(match: re.Match) -> str:
    digits = match.group(0)
    return re.sub(r"\d", "*", digits[:-4]) + digits[-4:]


def mask_number(value: str) -> str:
    """'whatsapp:+34600123456' -> 'whatsapp:+*******3456': only the last 4 digits stay."""
    return _DIGITS.sub(_keep_last_4, value)


def mask_phones(text: str) -> str:
    """Phone numbers in free text masked: "To +34600123456" -> "To +*******3456"."""
    return _PHONE.sub(_keep_last_4, text) if "+" in text else text


# Fields that carry phone numbers: masked wherever they are logged.
NUMBER_FIELDS = frozenset({"user", "from", "to", "number", "client_number", "user_number"})


def log_event(event: str, level: int = logging.INFO, **fields: object) -> None:
    """Log `event` with `fields`; None values are left out, phone numbers masked in every text."""
    if not LOGGER.isEnabledFor(level):
        return
    record: dict[str, object] = {"event": event}
    for name, value in fields.items():
        if value is None:
            continue
        if name in NUMBER_FIELDS:
            value = mask_number(str(value))
        elif isinstance(value, str):
            value = mask_phones(value)
        record[name] = value
    LOGGER.log(level, "%s", event, extra={"horizon": record})


class JsonLineFormatter(logging.Formatter):
    """Formats every record as one JSON object: time, level, event and its fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
        }
        fields = getattr(record, "horizon", None)
        if fields is None:
            message = mask_phones(record.getMessage())
            payload |= {"event": "log", "logger": record.name, "message": message}
        else:
            payload |= fields
        if record.exc_info:
            payload["error"] = mask_phones(self.formatException(record.exc_info))
        return json.dumps(payload, ensure_ascii=False, default=str)


def configure_json_logging(level: int = logging.INFO, stream=None) -> None:
    """Send Horizon's and uvicorn's logs to `stream` (stderr) as JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    for name in ("horizon", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
