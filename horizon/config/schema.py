"""`schema.json`: the JSON Schema of a client file, generated from the models."""

from __future__ import annotations

import json
from pathlib import Path

from horizon.config.client import ClientSpec

SCHEMA_ID = "https://horizon.example/schema/client.json"


def client_schema() -> dict:
    """The JSON Schema (draft 2020-12) that editors use to check and complete client files."""
    schema = ClientSpec.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def render_schema() -> str:
    return json.dumps(client_schema(), indent=2, ensure_ascii=False) + "\n"


def schema_is_current(path: Path) -> bool:
    """True when the file at `path` matches what the models generate now."""
    return path.is_file() and path.read_text(encoding="utf-8") == render_schema()
