"""The model table: families, what validate says of a combination, what a request carries.

The last tests hold Horizon's table against the sandbox's own statement of OpenAI's
rules (horizon/sandbox/openai_models.py, written apart): every combination validate
passes is answered, and every one it refuses is refused by the sandbox too.
"""

from __future__ import annotations

import itertools

import openai
import pytest

from horizon.config.client import Assistant
from horizon.config.models import EFFORTS, FAMILIES, check_parameters, family_of
from horizon.config.models import request_parameters as params_of


def assistant(model: str, **fields: object) -> Assistant:
    return Assistant(model=model, instructions="Hi.", **fields)


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("gpt-5.4-mini", "gpt-5.4-mini"),
        ("gpt-5.4-mini-2026-03-17", "gpt-5.4-mini"),
        ("gpt-5.4-mini-2026-03-01", "gpt-5.4-mini"),  # any dated snapshot
        ("gpt-5-mini-2025-08-07", "gpt-5-mini"),
        ("gpt-5-2025-08-07", "gpt-5"),
        ("o3-2025-04-16", "o3"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-5.5", None),  # not gpt-5: a prefix belongs to its family only at a snapshot date
        ("gpt-5.4-mini-high", None),
        ("gpt-5-chat-latest", None),
        ("gpt-4o-mini-search-preview", None),
    ],
)
def test_a_model_id_belongs_to_its_family_dated_snapshots_included(model, family):
    found = family_of(model)

    assert (found.name if found else None) == family


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # gpt-5.4-mini: temperature only at effort none, which is then sent explicitly.
        ({"temperature": 0.4}, {"temperature": 0.4, "reasoning": {"effort": "none"}}),
        (
            {"temperature": 0.4, "reasoning_effort": "none", "max_output_tokens": 600},
            {"temperature": 0.4, "reasoning": {"effort": "none"}, "max_output_tokens": 600},
        ),
        ({"reasoning_effort": "low"}, {"reasoning": {"effort": "low"}}),
        ({"temperature": 0.4, "reasoning_effort": "high"}, {"reasoning": {"effort": "high"}}),
        ({}, {}),
    ],
)
def test_request_parameters_of_a_gpt_5_4_client(fields, expected):
    assert params_of(assistant("gpt-5.4-mini", **fields)) == expected


NONE = {"effort": "none"}


@pytest.mark.parametrize(
    ("model", "fields", "expected"),
    [
        ("gpt-4.1-mini", {"temperature": 0.2}, {"temperature": 0.2}),
        ("gpt-4o", {"reasoning_effort": "low"}, {}),  # validate refuses it; never sent
        ("gpt-5-mini", {"temperature": 0.7}, {}),
        ("gpt-5-mini", {"reasoning_effort": "minimal"}, {"reasoning": {"effort": "minimal"}}),
        ("o3", {"temperature": 0.7}, {}),
        ("gpt-5.1-2025-11-13", {"temperature": 0.3}, {"temperature": 0.3, "reasoning": NONE}),
        # A model not in the table gets what its file says (validate warned).
        (
            "my-fine-tune",
            {"temperature": 0.3, "reasoning_effort": "low"},
            {"temperature": 0.3, "reasoning": {"effort": "low"}},
        ),
    ],
)
def test_request_parameters_send_only_what_the_family_accepts(model, fields, expected):
    assert params_of(assistant(model, **fields)) == expected


def test_an_unknown_model_is_a_warning_with_a_suggestion():
    [problem] = check_parameters("gpt-5.4mini", None, 0.4)

    assert problem.warning and problem.field == "model"
    assert problem.message == (
        "unknown model 'gpt-5.4mini' (did you mean 'gpt-5.4-mini'?); "
        "Horizon cannot check its parameters"
    )


def test_a_model_openai_shut_down_is_an_error_snapshots_included():
    [problem] = check_parameters("o1-2024-12-17", None, None)

    assert not problem.warning
    assert problem.message == "OpenAI shut o1-2024-12-17 down on 2026-10-23; choose another model"


def test_every_family_has_a_documented_default_only_among_its_efforts():
    for family in FAMILIES:
        assert set(family.efforts) <= set(EFFORTS), family
        assert family.default_effort is None or family.default_effort in family.efforts, family
    assert family_of("gpt-5.1").default_effort == "none"
    assert family_of("gpt-5-mini").default_effort == "medium"
    assert family_of("gpt-5-pro").default_effort == "high"


def combinations():
    """Every family with every effort (or none set) and with or without a temperature."""
    for family, effort, temperature in itertools.product(FAMILIES, (None, *EFFORTS), (None, 0.4)):
        yield family.name, effort, temperature


def test_what_validate_passes_the_sandbox_answers_and_what_it_refuses_the_sandbox_refuses(
    sandbox,
):
    client = sandbox.openai(max_retries=0)
    disagreements = []
    for model, effort, temperature in combinations():
        fields = {"reasoning_effort": effort, "temperature": temperature}
        valid = not check_parameters(model, effort, temperature)
        # What Horizon sends for a valid file; what the file asks for, raw, for another.
        sent = params_of(assistant(model, **fields)) if valid else _as_written(effort, temperature)
        try:
            client.responses.create(model=model, input="hola", **sent)
            answered = True
        except openai.BadRequestError:
            answered = False
        if answered != valid:
            disagreements.append((model, effort, temperature, sent, answered))

    assert disagreements == []


def _as_written(effort: str | None, temperature: float | None) -> dict:
    sent: dict = {"reasoning": {"effort": effort}} if effort else {}
    return sent | ({"temperature": temperature} if temperature is not None else {})
