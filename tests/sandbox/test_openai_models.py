"""OpenAI models: the list the sandbox serves, and the parameters each family refuses."""

from __future__ import annotations

import openai
import pytest
from openai.types import Model

UNSUPPORTED_TEMPERATURE = "Unsupported parameter: 'temperature' is not supported with this model."


def test_models_are_listed_and_retrieved_in_the_sdks_shapes(sandbox):
    client = sandbox.openai()

    listed = list(client.models.list())
    snapshot = client.models.retrieve("gpt-5.4-mini-2026-03-17")

    ids = [model.id for model in listed]
    assert all(isinstance(model, Model) and model.object == "model" for model in listed)
    assert len(ids) == len(set(ids))
    assert {"gpt-4.1-mini", "gpt-5-mini", "gpt-5.1", "gpt-5.4-mini", "o3"} <= set(ids)
    assert (snapshot.id, snapshot.owned_by) == ("gpt-5.4-mini-2026-03-17", "system")
    assert client.models.retrieve("gpt-5-mini").shutdown_date == "2026-12-11"


@pytest.mark.parametrize("model", ["gpt-4", "o4-mini", "gpt-5.4-mini-2026-03-01", "foo"])
def test_a_model_not_served_is_a_404_model_not_found(sandbox, model):
    """Made-up ids, a snapshot that never existed, and models OpenAI has shut down."""
    with pytest.raises(openai.NotFoundError) as raised:
        sandbox.openai().models.retrieve(model)

    assert raised.value.body == {
        "message": f"The model '{model}' does not exist",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }


def test_a_response_from_an_unknown_model_is_a_404_model_not_found(sandbox):
    with pytest.raises(openai.NotFoundError) as raised:
        sandbox.openai().responses.create(model="gpt-9-turbo", input="hola")

    assert raised.value.body == {
        "message": "The model `gpt-9-turbo` does not exist or you do not have access to it.",
        "type": "invalid_request_error",
        "param": None,
        "code": "model_not_found",
    }


@pytest.mark.parametrize(
    ("model", "params"),
    [
        ("gpt-4.1-mini", {"temperature": 0.4, "top_p": 0.5}),
        ("gpt-4o", {"temperature": 2}),
        ("gpt-5.4-mini", {"temperature": 0.4, "reasoning": {"effort": "none"}}),
        ("gpt-5.2-2025-12-11", {"top_p": 0.3, "reasoning": {"effort": "none"}}),
        ("gpt-5.1", {"temperature": 0.4}),  # gpt-5.1's default effort is none (OpenAI)
        ("gpt-5-mini", {"temperature": 1}),  # "Only the default (1) value is supported"
        ("gpt-5.4-mini", {"reasoning": {"effort": "high"}}),
        ("gpt-5-nano", {"reasoning": {"effort": "minimal"}}),
        ("o3", {"reasoning": {"effort": "low"}}),
    ],
)
def test_parameters_the_family_accepts_are_answered(sandbox, model, params):
    response = sandbox.openai().responses.create(model=model, input="hola", **params)

    assert response.status == "completed"
    assert response.temperature == params.get("temperature", 1)
    assert response.top_p == params.get("top_p", 1)


@pytest.mark.parametrize(
    ("model", "params", "error"),
    [
        # gpt-5.1+ take temperature only at effort none; gpt-5.4 states no default effort.
        ("gpt-5.4-mini", {"temperature": 0.4}, ("temperature", None, UNSUPPORTED_TEMPERATURE)),
        (
            "gpt-5.4-mini",
            {"temperature": 0.4, "reasoning": {"effort": "low"}},
            ("temperature", None, UNSUPPORTED_TEMPERATURE),
        ),
        (
            "gpt-5.1",
            {"top_p": 0.5, "reasoning": {"effort": "medium"}},
            ("top_p", None, "Unsupported parameter: 'top_p' is not supported with this model."),
        ),
        (
            "gpt-5-mini-2025-08-07",
            {"temperature": 0.7},
            (
                "temperature",
                "unsupported_value",
                "Unsupported value: 'temperature' does not support 0.7 with this model. "
                "Only the default (1) value is supported.",
            ),
        ),
        ("o3", {"temperature": 0.2}, ("temperature", "unsupported_parameter", None)),
        ("gpt-5-pro", {"temperature": 1}, ("temperature", "unsupported_parameter", None)),
        (
            "gpt-5-mini",
            {"reasoning": {"effort": "none"}},
            (
                "reasoning.effort",
                "unsupported_value",
                "Unsupported value: 'reasoning.effort' does not support 'none' with this model. "
                "Supported values are: 'minimal', 'low', 'medium', and 'high'.",
            ),
        ),
        (
            "gpt-5-pro",
            {"reasoning": {"effort": "medium"}},
            ("reasoning.effort", "unsupported_value", None),
        ),
        (
            "gpt-5.4-mini",
            {"reasoning": {"effort": "minimal"}},
            ("reasoning.effort", "unsupported_value", None),
        ),
        (
            "gpt-4.1-mini",
            {"reasoning": {"effort": "low"}},
            (
                "reasoning.effort",
                "unsupported_parameter",
                "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
            ),
        ),
        (
            "gpt-4o",
            {"reasoning": {"summary": "auto"}},
            ("reasoning", "unsupported_parameter", None),
        ),
    ],
)
def test_parameters_the_family_refuses_are_a_400_naming_them(sandbox, model, params, error):
    param, code, message = error
    with pytest.raises(openai.BadRequestError) as raised:
        sandbox.openai().responses.create(model=model, input="hola", **params)

    body = raised.value.body
    assert (body["type"], body["param"], body["code"]) == ("invalid_request_error", param, code)
    if message:
        assert body["message"] == message


@pytest.mark.invalid_vendor_requests
def test_an_effort_the_api_does_not_know_is_an_invalid_value(sandbox):
    response = sandbox.http.post(
        "/v1/responses",
        json={"model": "gpt-5.4-mini", "input": "hola", "reasoning": {"effort": "extreme"}},
        headers={"Authorization": f"Bearer {sandbox.openai_key}"},
    )

    assert response.status_code == 400
    assert response.json()["error"] == {
        "message": "Invalid value: 'extreme'. Supported values are: 'none', 'minimal', 'low', "
        "'medium', 'high', 'xhigh', and 'max'.",
        "type": "invalid_request_error",
        "param": "reasoning.effort",
        "code": "invalid_value",
    }


def test_models_need_the_api_key(sandbox):
    response = sandbox.http.get("/v1/models", headers={"Authorization": "Bearer sk-wrong-key"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
