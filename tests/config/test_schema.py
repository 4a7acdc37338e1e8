"""schema.json is generated from the models and describes what the loader accepts."""

from __future__ import annotations

import json
from pathlib import Path

from horizon.config.schema import client_schema, render_schema, schema_is_current

REPO = Path(__file__).parent.parent.parent


def test_committed_schema_is_current() -> None:
    assert schema_is_current(REPO / "schema.json"), "run `horizon schema` and commit schema.json"


def test_schema_forbids_unknown_keys_at_every_level() -> None:
    schema = client_schema()

    assert schema["additionalProperties"] is False
    for name in ("Assistant", "Profile", "Limits"):
        assert schema["$defs"][name]["additionalProperties"] is False


def test_schema_carries_help_for_editors() -> None:
    schema = client_schema()

    number = schema["properties"]["number"]
    assert number["description"] and number["examples"] == ["+34910000101"]
    assert set(schema["required"]) == {"name", "number", "assistant"}
    assert "Restaurant" in json.dumps(schema["$defs"]["Profile"]["properties"]["vertical"])


def test_stale_schema_is_detected(tmp_path: Path) -> None:
    stale = tmp_path / "schema.json"
    stale.write_text(render_schema().replace("Business name", "Company name"))

    assert not schema_is_current(stale)
    assert not schema_is_current(tmp_path / "missing.json")
