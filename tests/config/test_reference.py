"""README's field reference is generated from the schema and kept current."""

from __future__ import annotations

from pathlib import Path

import pytest

from horizon.config.client import ClientSpec
from horizon.config.reference import (
    END,
    MODELS_END,
    MODELS_START,
    START,
    reference_is_current,
    with_reference,
)

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


def test_the_model_table_is_rendered_between_its_markers() -> None:
    text = with_reference(f"{START}\n{END}\n{MODELS_START}\nold\n{MODELS_END}\n")

    table = text.partition(MODELS_START)[2]
    assert "old" not in table
    assert (
        "| `gpt-5.1` | only with `reasoning_effort: none` | none, low, medium, high | none |"
        in (table)
    )
    assert "| `gpt-5`, `gpt-5-mini`, `gpt-5-nano` | no | minimal, low, medium, high | medium |" in (
        table
    )
