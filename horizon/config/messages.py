"""Turn pydantic's validation errors into messages a client-file author can act on."""

from __future__ import annotations

import datetime
import difflib
from typing import Any

from pydantic import BaseModel

from horizon.config.client import ClientSpec

_TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
}


def describe_validation_error(error: dict[str, Any]) -> str:
    """One line for one pydantic error (see pydantic_core.ErrorDetails)."""
    kind, loc, value = error["type"], tuple(error["loc"]), error.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return _unknown_key(loc)
    if kind in ("model_type", "dict_type"):
        return f"must be a mapping of fields, not {_describe(value)}"
    if kind in ("list_type", "tuple_type"):
        return f"must be a list, not {_describe(value)}"
    if kind in _TYPE_NAMES:
        message = f"must be {_TYPE_NAMES[kind]}, not {_describe(value)}"
        if kind == "string_type" and isinstance(value, bool | int | float | datetime.date):
            message += "; put the value in quotes"
        return message
    message = error["msg"].removeprefix("Value error, ")
    if message.startswith("Input should"):
        message = "must" + message.removeprefix("Input should")
        if value is not None and not isinstance(value, dict | list):
            message += f" (got {_short(value)})"
    return message


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}...{text[-1]}"


def _describe(value: Any) -> str:
    if value is None:
        return "empty (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def _unknown_key(loc: tuple) -> str:
    key = str(loc[-1])
    allowed = _fields_at(loc[:-1])
    if allowed is None:
        return f"unknown key {key!r}"
    suggestion = difflib.get_close_matches(key, allowed, n=1)
    hint = f"; did you mean {suggestion[0]!r}?" if suggestion else ""
    return f"unknown key {key!r}{hint} (allowed: {', '.join(allowed)})"


def _fields_at(loc: tuple) -> list[str] | None:
    """Field names of the model found at `loc`, or None when it is not a model."""
    model: type[BaseModel] = ClientSpec
    for part in loc:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return list(model.model_fields)
