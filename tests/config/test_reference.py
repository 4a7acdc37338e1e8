"""README's field reference is generated from the schema and kept current."""

from __future__ import annotations

from pathlib import Path

import pytest

from horizon.config.client import ClientSpec
from horizon.config.reference import END, START, reference_is_current, with_reference

REPO = Path(__file__).parent.parent.parent


def test_readme_reference_is_current() -> None:
    assert reference_is_current(REPO / "README.md"), "run `horizon schema` and commit README.md"


def test_reference_lists_every_field_with_its_path() -> None:
    text = with_reference(f"intro\n{START}\n{END}\noutro\n")

    for name in ClientSpec.model_fields:
        assert f"| `{name}` |" in text
    assert "| `assistant.memory_days` | integer (≥ 1, ≤ 365) | `7` |" in text
    assert "| `name` | string (≤ 100 chars) |  | **Required.**" in text
    assert text.startswith("intro\n") and text.endswith(f"{END}\noutro\n")


def test_readme_without_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="markers"):
        with_reference("no markers here\n")
