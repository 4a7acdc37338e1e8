"""Checks one HTTP request against the vendors' published OpenAPI documents.

    violations = check("POST", "/v1/responses", "", "application/json", b'{"model": …}')

The operation must exist in the spec; its path and query parameters must be known, typed and
present when required; the body must have a media type the operation takes and validate
against its schema: JSON as it is, form fields (Twilio) coerced to the declared types with
`Name` repeated for arrays, multipart (OpenAI file upload) by field names and plain values.
Property names the spec does not define are violations even where the schema leaves
`additionalProperties` open: OpenAI answers an unknown parameter with a 400, and where a
vendor ignores one the request does not do what its author meant. `format` is not asserted
(Twilio's `phone-number` also covers `whatsapp:` addresses).
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from jsonschema.exceptions import ValidationError, best_match

from tests.contracts.specs import Document, Operation, Parameter, Specs, load_specs

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<missing>"})()
NAMES_CHECKED_APART = {"additionalProperties", "unevaluatedProperties"}


@dataclass(frozen=True)
class Violation:
    """One way a request breaks the spec: where (`field`), why, and the offending value."""

    operation_id: str  # the spec's operationId; for an undocumented endpoint "METHOD path"
    operation: str  # for people: "CreateMessage (POST /2010-04-01/Accounts/{AccountSid}/…)"
    field: str  # "endpoint", "content-type", "path.Sid", "query.PageSize", "body.profile.name"
    reason: str
    value: Any = MISSING

    def __str__(self) -> str:
        shown = "" if self.value is MISSING else f" (got {_short(repr(self.value))})"
        return f"{self.operation}: {self.field}: {self.reason}{shown}"


def check(
    method: str,
    path: str,
    query: str = "",
    content_type: str = "",
    body: bytes = b"",
    specs: Specs | None = None,
) -> list[Violation]:
    """Every way the request `method path?query` with `body` breaks the vendor's spec."""
    specs = specs or load_specs()
    match = specs.match(method, path)
    op = match.operation
    if op is None:
        where = f"{method.upper()} {path}"
        reason = "the vendor's published spec has no such endpoint"
        if match.methods_on_path:
            reason = f"the spec has this path only for {', '.join(match.methods_on_path)}"
        return [Violation(where, where, "endpoint", reason)]
    found = _check_path(specs, op, match.path_values)
    found += _check_query(specs, op, query)
    found += _check_body(specs, op, content_type, body)
    return found


def _violation(op: Operation, field: str, reason: str, value: Any = MISSING) -> Violation:
    return Violation(op.operation_id, op.name, field, reason, value)


def _check_path(specs: Specs, op: Operation, values: dict[str, str]) -> list[Violation]:
    found = []
    for param in op.parameters:
        if param.location == "path" and param.name in values:
            found += _check_value(specs, op, param, values[param.name], f"path.{param.name}")
    return found


def _check_query(specs: Specs, op: Operation, query: str) -> list[Violation]:
    given: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        given.setdefault(name, []).append(value)
    params = {p.name: p for p in op.parameters if p.location == "query"}
    found = []
    for name, values in given.items():
        param = params.get(name)
        # openai-python spells array parameters `name[]=…` (its own API accepts that).
        if param is None and name.endswith("[]"):
            param = params.get(name[:-2])
            param = (
                param if param and _declared_type(op.document, param.schema) == "array" else None
            )
        if param is None:
            known = ", ".join(sorted(params)) or "none"
            reason = f"not a parameter of this operation ({known})"
            found.append(_violation(op, f"query.{name}", reason, _as_given(values)))
            continue
        found += _check_value(specs, op, param, values, f"query.{name}")
    for name, param in params.items():
        if param.required and name not in given and f"{name}[]" not in given:
            found.append(_violation(op, f"query.{name}", "required, not given"))
    return found


def _check_value(
    specs: Specs, op: Operation, param: Parameter, raw: str | list[str], field: str
) -> list[Violation]:
    values = raw if isinstance(raw, list) else [raw]
    value, problem = _coerce(op.document, param.schema, values)
    if problem:
        return [_violation(op, field, problem, _as_given(values))]
    validator = specs.validator(op.document.uri, param.schema_pointer)
    return [_violation(op, field, _reason(error), value) for error in validator.iter_errors(value)]


def _check_body(specs: Specs, op: Operation, content_type: str, body: bytes) -> list[Violation]:
    if op.body is None:
        if body.strip():
            return [_violation(op, "body", "this operation takes no body", body)]
        return []
    media_type = content_type.partition(";")[0].strip().lower()
    if not body and not media_type:
        return [_violation(op, "body", "required, not given")] if op.body.get("required") else []
    accepted = op.body.get("content", {})
    if media_type not in accepted:
        reason = f"the operation takes {', '.join(accepted)}"
        return [_violation(op, "content-type", reason, content_type)]
    pointer = op.body_schema_pointer(media_type)
    schema = op.document.pointer(pointer)
    if media_type == "application/json":
        try:
            instance = json.loads(body)
        except ValueError as error:
            return [_violation(op, "body", f"not JSON: {error}", body)]
        found = []
    elif media_type == "application/x-www-form-urlencoded":
        fields = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        instance, found = _typed_fields(op, schema, fields)
    elif media_type == "multipart/form-data":
        instance, found = _typed_fields(op, schema, _multipart_fields(content_type, body))
    else:
        return [_violation(op, "content-type", "this checker cannot read it", content_type)]
    for path, name, value in unknown_properties(op.document, [schema], instance):
        found.append(_violation(op, _field("body", [*path, name]), "not in the spec", value))
    # A field whose value could not be read as its type is reported once, as that.
    unreadable = {violation.field for violation in found}
    validator = specs.validator(op.document.uri, pointer)
    for error in validator.iter_errors(instance):
        error = _deepest(error)
        field = _field("body", error.absolute_path)
        if error.validator not in NAMES_CHECKED_APART and field not in unreadable:
            found.append(_violation(op, field, _reason(error), error.instance))
    return found


def _typed_fields(
    op: Operation, schema: dict, fields: list[tuple[str, str]]
) -> tuple[dict, list[Violation]]:
    """Form or multipart fields as the object the schema describes, each coerced to its type.

    `Name` repeated is an array; `name[key]` (openai-python's multipart objects) a nested
    object. Unknown names, and values that cannot be read as their type, stay as given.
    """
    grouped: dict[str, list[str]] = {}
    for name, value in fields:
        grouped.setdefault(name, []).append(value)
    properties = op.document.resolve(schema).get("properties", {})
    instance: dict[str, Any] = {}
    found = []
    for name, values in grouped.items():
        head, _, rest = name.partition("[")
        if rest and head in properties:
            keys = [head, *re.findall(r"([^\[\]]+)\]", "[" + rest)]
            _set_nested(instance, keys, values[-1] if len(values) == 1 else values)
            continue
        if name not in properties:
            instance[name] = values[0] if len(values) == 1 else values
            continue
        value, problem = _coerce(op.document, properties[name], values)
        if problem:
            found.append(_violation(op, f"body.{name}", problem, _as_given(values)))
        instance[name] = value
    return instance, found


def _as_given(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


def _set_nested(target: dict, keys: list[str], value: Any) -> None:
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = _number_or_text(value) if isinstance(value, str) else value


def _number_or_text(text: str) -> Any:
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def _coerce(doc: Document, schema: dict, values: list[str]) -> tuple[Any, str | None]:
    """The form or query value(s) as the declared type; or why they cannot be."""
    kind = _declared_type(doc, schema)
    if kind == "array":
        items = doc.resolve(doc.resolve(schema).get("items", {}))
        coerced = [_coerce(doc, items, [value]) for value in values]
        problems = [problem for _, problem in coerced if problem]
        return [value for value, _ in coerced], problems[0] if problems else None
    if len(values) > 1:
        return values, f"given {len(values)} times, but it is not an array"
    text = values[0]
    if kind == "integer":
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text), None
        return text, "not an integer"
    if kind == "number":
        if re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
            return float(text), None
        return text, "not a number"
    if kind == "boolean":
        if text.lower() in ("true", "false"):
            return text.lower() == "true", None
        return text, "not a boolean (true or false)"
    return text, None


def _declared_type(doc: Document, schema: Any) -> str | None:
    """The non-null type a schema declares, looking through `$ref` and a nullable `anyOf`."""
    schema = doc.resolve(schema)
    if not isinstance(schema, dict):
        return None
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((each for each in kind if each != "null"), None)
    if kind:
        return kind
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []):
        kind = _declared_type(doc, branch)
        if kind:
            return kind
    return None


def _multipart_fields(content_type: str, body: bytes) -> list[tuple[str, str]]:
    """The fields of a multipart/form-data body; a file's value is its file name."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        if filename is not None:
            fields.append((name, f"<file {filename}>"))
        else:
            fields.append((name, part.get_payload(decode=True).decode("utf-8", "replace")))
    return fields


def unknown_properties(
    doc: Document, schemas: list[Any], instance: Any, path: tuple = ()
) -> Iterator[tuple[tuple, str, Any]]:
    """(path, name, value) of each object member that no schema in `schemas` names.

    A schema counts with everything it applies in place ($ref, allOf, anyOf, oneOf). An
    object is open when some part allows additional properties, or when no part names any
    property (a free-form object), or when a union offers a free-form object.
    """
    parts = [part for schema in schemas for part in _in_place(doc, schema)]
    if isinstance(instance, dict):
        named: dict[str, list] = {}
        extra: list[dict] = []
        declares, open_ = False, False
        for part, via_union in parts:
            properties = part.get("properties")
            if isinstance(properties, dict):
                declares = True
                for name, subschema in properties.items():
                    named.setdefault(name, []).append(subschema)
            additional = part.get("additionalProperties")
            if additional is True or part.get("patternProperties"):
                open_ = True
            elif isinstance(additional, dict):
                open_ = True
                extra.append(additional)
            if via_union and _free_form_object(part):
                open_ = True
        for name, value in instance.items():
            if name in named:
                yield from unknown_properties(doc, named[name], value, (*path, name))
            elif extra:
                yield from unknown_properties(doc, extra, value, (*path, name))
            elif declares and not open_:
                yield path, name, value
    elif isinstance(instance, list):
        items = [part["items"] for part, _ in parts if isinstance(part.get("items"), dict)]
        for index, value in enumerate(instance):
            yield from unknown_properties(doc, items, value, (*path, index))


def _in_place(doc: Document, schema: Any) -> list[tuple[dict, bool]]:
    """`schema` and the subschemas it applies to the same value, each with whether it is
    one alternative of a union (anyOf/oneOf)."""
    found, seen = [], set()
    stack = [(schema, False)]
    while stack:
        node, via_union = stack.pop()
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        found.append((node, via_union))
        if "$ref" in node:
            stack.append((doc.resolve({"$ref": node["$ref"]}), via_union))
        stack.extend((each, via_union) for each in node.get("allOf", []))
        stack.extend((each, True) for key in ("anyOf", "oneOf") for each in node.get(key, []))
    return found


def _free_form_object(schema: dict) -> bool:
    kind = schema.get("type", "object")
    accepts_object = kind == "object" or (isinstance(kind, list) and "object" in kind)
    shaped = {"properties", "$ref", "allOf", "anyOf", "oneOf", "enum", "const"} & set(schema)
    return accepts_object and not shaped and schema.get("additionalProperties") is not False


def _deepest(error: ValidationError) -> ValidationError:
    """The most telling error inside an anyOf/oneOf failure (what a person would fix)."""
    return best_match([error]) if error.context else error


def _reason(error: ValidationError) -> str:
    return _short(error.message, 300)


def _field(prefix: str, path: Any) -> str:
    text = prefix
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else f".{step}"
    return text


def _short(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
