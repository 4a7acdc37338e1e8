"""One JSON line per event, with client id, message sid and event name; numbers masked.

log_event("inbound_stored", client="pizzeria-roma", sid="SM…", user="whatsapp:+34600…")
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time

LOGGER = logging.getLogger("horizon.webhook")
_NUMBER = re.compile(r"\+?\d{5,}")


def mask_number(value: str) -> str:
    """'whatsapp:+34600123456' -> 'whatsapp:+*******3456': only the last 4 digits stay."""
    return _NUMBER.sub(lambda m: re.sub(r"\d", "*", m.group(0)[:-4]) + m.group(0)[-4:], value)


# Fields that carry phone numbers: masked wherever they are logged.
NUMBER_FIELDS = frozenset({"user", "from", "to", "number", "client_number", "user_number"})


def log_event(event: str, level: int = logging.INFO, **fields: object) -> None:
    """Log `event` with `fields`; None values are left out, numbers masked."""
    if not LOGGER.isEnabledFor(level):
        return
    record: dict[str, object] = {"event": event}
    for name, value in fields.items():
        if value is None:
            continue
        record[name] = mask_number(str(value)) if name in NUMBER_FIELDS else value
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
            payload |= {"event": "log", "logger": record.name, "message": record.getMessage()}
        else:
            payload |= fields
        if record.exc_info:
            payload["error"] = self.formatException(record.exc_info)
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
