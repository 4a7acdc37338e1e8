"""The vendors' OpenAPI documents under tests/contracts/, loaded once, and their operations.

A request path is matched as the sandbox serves it: Twilio paths as on twilio.com with the
host dropped, OpenAI under /v1 (each server URL's path is the prefix). OpenAPI 3.0 documents
(Twilio's) are rewritten to JSON Schema 2020-12 (`nullable`, `$ref` siblings) so one
validator serves all three; the 3.1 document (OpenAI's) is used as it is.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

HERE = Path(__file__).parent
DOCUMENTS = ("twilio/messaging_v2.json", "twilio/api_v2010.json", "openai/openapi.json")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Document:
    """One OpenAPI document, ready for validation (3.0 rewritten)."""

    name: str
    uri: str
    contents: dict

    def resolve(self, node: Any) -> Any:
        """`node` with local `$ref`s followed (the documents only refer within themselves)."""
        while isinstance(node, dict) and "$ref" in node:
            node = self.pointer(node["$ref"].partition("#")[2])
        return node

    def pointer(self, pointer: str) -> Any:
        node: Any = self.contents
        for token in filter(None, pointer.split("/")):
            token = token.replace("~1", "/").replace("~0", "~")
            node = node[int(token)] if isinstance(node, list) else node[token]
        return node


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # "path" | "query" | "header" | "cookie"
    required: bool
    schema: dict
    schema_pointer: str


@dataclass(frozen=True)
class Operation:
    """One method on one path template of a vendor's spec."""

    document: Document
    method: str
    template: str  # as the sandbox serves it: server prefix + spec path
    operation_id: str
    parameters: tuple[Parameter, ...]
    body: dict | None  # the operation's requestBody object
    pointer: str  # JSON pointer of the operation in its document

    @property
    def name(self) -> str:
        return f"{self.operation_id} ({self.method} {self.template})"

    def body_schema_pointer(self, media_type: str) -> str:
        return f"{self.pointer}/requestBody/content/{_escape(media_type)}/schema"


@dataclass(frozen=True)
class Match:
    operation: Operation | None
    path_values: dict[str, str]
    methods_on_path: tuple[str, ...]  # when no operation: the methods the path does have


class Specs:
    """Every operation of the vendors' documents, found by method and request path."""

    def __init__(self, documents: list[Document]) -> None:
        self.documents = documents
        self.registry: Registry = Registry().with_resources(
            (doc.uri, Resource(doc.contents, DRAFT202012)) for doc in documents
        )
        self.operations: list[tuple[re.Pattern[str], Operation]] = [
            (_path_regex(op.template), op) for doc in documents for op in _operations(doc)
        ]

    def match(self, method: str, path: str) -> Match:
        """The operation for `method path`, with the values of its path parameters."""
        found = [(op, hit) for regex, op in self.operations if (hit := regex.fullmatch(path))]
        # A literal segment beats a template parameter, as routers do.
        found.sort(key=lambda pair: pair[0].template.count("{"))
        for op, hit in found:
            if op.method == method.upper():
                return Match(op, hit.groupdict(), ())
        return Match(None, {}, tuple(sorted({op.method for op, _ in found})))

    @functools.cache  # noqa: B019 (one Specs per run; validators are costly to build)
    def validator(self, uri: str, pointer: str) -> Draft202012Validator:
        """A validator of the schema at `pointer` in the document `uri`."""
        return Draft202012Validator({"$ref": f"{uri}#{pointer}"}, registry=self.registry)


@functools.cache
def load_specs() -> Specs:
    return Specs([_load(name) for name in DOCUMENTS])


def _load(name: str) -> Document:
    raw = json.loads((HERE / name).read_text())
    contents = raw if raw["openapi"].startswith("3.1") else _from_openapi_30(raw)
    return Document(name, f"urn:horizon-contract:{name}", contents)


def _from_openapi_30(document: dict) -> dict:
    """An OpenAPI 3.0 document's schemas in JSON Schema 2020-12 terms.

    3.0 ignores the siblings of a `$ref` and spells "or null" as `nullable: true`; 2020-12
    applies siblings and wants `null` in `type` (or an `anyOf` with it).
    """

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node and not isinstance(node["$ref"], dict):
            ref = {"$ref": node["$ref"]}
            return {"anyOf": [ref, {"type": "null"}]} if node.get("nullable") is True else ref
        node = {key: convert(value) for key, value in node.items()}
        if node.get("nullable") is True or node.get("nullable") is False:
            nullable = node.pop("nullable")
        else:
            nullable = False  # absent, or a property that happens to be named "nullable"
        if nullable:
            if isinstance(node.get("type"), str):
                node["type"] = [node["type"], "null"]
            if isinstance(node.get("enum"), list) and None not in node["enum"]:
                node["enum"] = [*node["enum"], None]
        return node

    converted = copy.deepcopy(document)
    converted["paths"] = convert(document["paths"])
    converted.setdefault("components", {})["schemas"] = convert(
        document.get("components", {}).get("schemas", {})
    )
    return converted


def _operations(doc: Document) -> list[Operation]:
    operations = []
    default_servers = doc.contents.get("servers", [{"url": "/"}])
    for path, item in doc.contents["paths"].items():
        servers = item.get("servers", default_servers)
        prefix = urlsplit(servers[0]["url"]).path.rstrip("/")
        shared = item.get("parameters", [])
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            pointer = f"/paths/{_escape(path)}/{method}"
            operations.append(
                Operation(
                    document=doc,
                    method=method.upper(),
                    template=prefix + path,
                    operation_id=op.get("operationId", f"{method} {path}"),
                    parameters=_parameters(doc, path, shared, op.get("parameters", []), pointer),
                    body=doc.resolve(op.get("requestBody")),
                    pointer=pointer,
                )
            )
    return operations


def _parameters(
    doc: Document, path: str, shared: list, own: list, pointer: str
) -> tuple[Parameter, ...]:
    """The operation's parameters; its own override the path item's of the same name and place."""
    found: dict[tuple[str, str], Parameter] = {}
    for base, listed in (
        (f"/paths/{_escape(path)}/parameters", shared),
        (pointer + "/parameters", own),
    ):
        for index, entry in enumerate(listed):
            param = doc.resolve(entry)
            schema_pointer = f"{base}/{index}/schema"
            if "$ref" in entry:
                schema_pointer = entry["$ref"].partition("#")[2] + "/schema"
            found[param["name"], param["in"]] = Parameter(
                name=param["name"],
                location=param["in"],
                required=bool(param.get("required")) or param["in"] == "path",
                schema=param.get("schema", {}),
                schema_pointer=schema_pointer,
            )
    return tuple(found.values())


def _path_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{([^}]+)\}", template)
    pattern = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{_group(part)}>[^/]+)"
        for index, part in enumerate(parts)
    )
    return re.compile(pattern)


def _group(name: str) -> str:
    if not name.isidentifier():
        raise ValueError(f"path parameter {name!r} is not usable as a regex group name")
    return name


def _escape(token: str) -> str:
    """A JSON pointer token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")
