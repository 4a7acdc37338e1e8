"""Phone numbers as operators see and type them: masked for display, normalised from input.

One masking for every view (logs, the panel) and for the JSON event logs alike, so a user
seen in one can be found in the other: only the last four digits stay (`+*******0001`).
"""

from __future__ import annotations

import re

import phonenumbers

from horizon.telemetry.logs import mask_number

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class NumberError(ValueError):
    """A phone number the user typed that cannot be read; the message says why."""


def mask_user(number: str | None) -> str:
    """'+34600000001' -> '+*******0001' (the event logs' masking)."""
    return mask_number(number) if number else ""


def normalise_number(text: str) -> str:
    """The E.164 form of what a user typed: '+34 600 00 00 01', '0034…', 'whatsapp:+34…'."""
    raw = text.strip().removeprefix("whatsapp:").strip()
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        parsed = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        parsed = None
    number = (
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) if parsed else ""
    )
    if not _E164.match(number):
        raise NumberError(
            f"{text!r} is not a phone number: write it with '+' and the country code, "
            "such as +34600000001"
        )
    return number
