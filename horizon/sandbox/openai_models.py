"""The models the sandbox serves, and the sampling and reasoning parameters each accepts.

This is the sandbox's own statement of OpenAI's behaviour. It is written apart from
`horizon.config.models` (which Horizon builds its requests from), so a mistake in one is
caught by tests against the other. Where OpenAI documents nothing, the stricter reading
is taken: the sandbox may refuse what OpenAI would allow, never the reverse.

Sources (as of 2026-11-25):
- [SPEC] openai/openai-openapi @ 5162af9, `ReasoningEffort.description`: gpt-5.1 defaults to
  `none` and supports none/low/medium/high; "All models before gpt-5.1 default to medium
  reasoning effort, and do not support none"; gpt-5-pro "defaults to (and only supports)
  high". The current SPEC's `ReasoningEffort` schema default is `medium`.
- [GUIDE] OpenAI's `latest-model#gpt-5-1-parameter-compatibility` (and #gpt-54-…), cited by
  vercel/ai PR #10940 / #11174 and tmc/langchaingo#1497: temperature, top_p and logprobs
  only on gpt-5.1 and later with effort `none`; an error with any other reasoning setting.
- [TRUTH] community.openai.com thread 1371738: efforts per model, "verified against the API".
- [SDK] openai 3.57 `types/shared/chat_model.py` and `responses_model.py`: the model ids,
  and announced shutdown dates (models past theirs on 2026-11-25 are not served).
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass
from typing import Literal

import falcon

from horizon.sandbox.context import Sandbox
from horizon.sandbox.openai_api import OpenAIError, invalid

# [SDK] `ReasoningEffort`: every value the API knows; a family accepts a subset.
EFFORT_VALUES = ("none", "minimal", "low", "medium", "high", "xhigh", "max")

# Reasoning tokens the sandbox spends per effort, before any visible text: fixed, so tests
# can predict when `max_output_tokens` runs out. They count in `usage.output_tokens`.
REASONING_TOKENS = {
    "none": 0,
    "minimal": 16,
    "low": 64,
    "medium": 256,
    "high": 1024,
    "xhigh": 4096,
    "max": 8192,
}

# any: temperature/top_p always; at_none: only at effort none [GUIDE]; default_only: only
# the default 1 (gpt-5: "Only the default (1) value is supported", nashsu/llm_wiki#670);
# never: rejected outright (o-series, soberlemur/autopo#57).
Sampling = Literal["any", "at_none", "default_only", "never"]


@dataclass(frozen=True)
class Family:
    sampling: Sampling
    efforts: tuple[str, ...] = ()  # empty: not a reasoning model, `reasoning` is refused
    default_effort: str | None = None


@dataclass(frozen=True)
class ServedModel:
    id: str
    family: Family
    created: int
    shutdown_date: str | None

    def public(self) -> dict:
        """The `Model` object of GET /v1/models (SDK `types/model.py`)."""
        return {
            "id": self.id,
            "object": "model",
            "created": self.created,
            "owned_by": "system",
            "shutdown_date": self.shutdown_date,
        }


CHAT = Family("any")
O_SERIES = Family("never", ("low", "medium", "high"), "medium")  # [SPEC] before gpt-5.1
GPT5 = Family("default_only", ("minimal", "low", "medium", "high"), "medium")  # [SPEC] [TRUTH]
GPT5_CODEX = Family("never", ("low", "medium", "high"), "medium")  # [SPEC] before gpt-5.1
GPT5_PRO = Family("never", ("high",), "high")  # [SPEC]
GPT51 = Family("at_none", ("none", "low", "medium", "high"), "none")  # [SPEC] [GUIDE]
CODEX_MAX = Family("never", ("low", "medium", "high", "xhigh"), "medium")
# gpt-5.2 and gpt-5.4 default to `none` by third-party accounts only; OpenAI documents no
# default, so the schema default (medium) applies here: the stricter reading, under which
# temperature without an explicit `none` is refused and reasoning tokens are spent.
GPT52_ON = Family("at_none", ("none", "low", "medium", "high", "xhigh"), "medium")
GPT52_PRO = Family("never", ("medium", "high", "xhigh"), "medium")

# (family, release date for `created`, shutdown date, ids: the alias and its snapshots)
_CATALOGUE = [
    (CHAT, "2024-05-13", "2027-01-14", "gpt-4o gpt-4o-2024-11-20 gpt-4o-2024-08-06"),
    (CHAT, "2024-07-18", "2027-01-14", "gpt-4o-mini gpt-4o-mini-2024-07-18"),
    (CHAT, "2025-04-14", "2027-01-14", "gpt-4.1 gpt-4.1-2025-04-14"),
    (CHAT, "2025-04-14", "2027-01-14", "gpt-4.1-mini gpt-4.1-mini-2025-04-14"),
    (O_SERIES, "2025-04-16", "2026-12-11", "o3 o3-2025-04-16"),
    (O_SERIES, "2025-06-10", None, "o3-pro o3-pro-2025-06-10"),
    (O_SERIES, "2025-03-19", None, "o1-pro o1-pro-2025-03-19"),
    (GPT5, "2025-08-07", "2026-12-11", "gpt-5 gpt-5-2025-08-07"),
    (GPT5, "2025-08-07", "2026-12-11", "gpt-5-mini gpt-5-mini-2025-08-07"),
    (GPT5, "2025-08-07", "2026-12-11", "gpt-5-nano gpt-5-nano-2025-08-07"),
    (GPT5_CODEX, "2025-09-15", None, "gpt-5-codex"),
    (GPT5_PRO, "2025-10-06", None, "gpt-5-pro gpt-5-pro-2025-10-06"),
    (GPT51, "2025-11-13", "2027-04-01", "gpt-5.1 gpt-5.1-2025-11-13"),
    (CODEX_MAX, "2025-11-19", None, "gpt-5.1-codex-max"),
    (GPT52_ON, "2025-12-11", None, "gpt-5.2 gpt-5.2-2025-12-11"),
    (GPT52_PRO, "2025-12-11", None, "gpt-5.2-pro gpt-5.2-pro-2025-12-11"),
    (GPT52_ON, "2026-03-05", None, "gpt-5.4"),
    (GPT52_ON, "2026-03-17", None, "gpt-5.4-mini gpt-5.4-mini-2026-03-17"),
    (GPT52_ON, "2026-03-17", "2027-04-01", "gpt-5.4-nano gpt-5.4-nano-2026-03-17"),
]


def _epoch(day: str) -> int:
    return calendar.timegm(time.strptime(day, "%Y-%m-%d"))


# `created` is the release date at midnight UTC (the snapshot's date where it has one), not
# OpenAI's exact timestamp; SDK 3.57 lists no snapshot of gpt-5-codex, gpt-5.1-codex-max or
# gpt-5.4, whose dates are approximate.
MODELS: dict[str, ServedModel] = {
    model_id: ServedModel(model_id, family, _epoch(released), shutdown)
    for family, released, shutdown, ids in _CATALOGUE
    for model_id in ids.split()
}


def served_model(model_id: str) -> ServedModel | None:
    return MODELS.get(model_id)


def model_not_found(model_id: str) -> OpenAIError:
    """The 404 of an inference endpoint (shobrook/wut#14: `param` null, backquoted id)."""
    return OpenAIError(
        404,
        f"The model `{model_id}` does not exist or you do not have access to it.",
        code="model_not_found",
    )


def effective_effort(model: ServedModel, reasoning: object) -> str | None:
    """The effort a request runs at (None: not a reasoning model); 400 when refused."""
    if reasoning is not None and not isinstance(reasoning, dict):
        raise invalid(
            "Invalid type for 'reasoning': expected an object, but got a "
            f"{type(reasoning).__name__} instead.",
            "reasoning",
            code="invalid_type",
        )
    effort = (reasoning or {}).get("effort")
    if effort is not None and effort not in EFFORT_VALUES:
        raise invalid(
            f"Invalid value: {effort!r}. Supported values are: {_listed(EFFORT_VALUES)}.",
            "reasoning.effort",
            code="invalid_value",
        )
    family = model.family
    if not family.efforts:
        if reasoning:  # any reasoning option at all: "gpt-5 and o-series models only" [SPEC]
            param = "reasoning.effort" if "effort" in reasoning else "reasoning"
            raise _unsupported_parameter(param, "unsupported_parameter")
        return None
    if effort is not None and effort not in family.efforts:
        raise invalid(
            f"Unsupported value: 'reasoning.effort' does not support {effort!r} with this "
            f"model. Supported values are: {_listed(family.efforts)}.",
            "reasoning.effort",
            code="unsupported_value",
        )
    return effort or family.default_effort


def check_sampling(model: ServedModel, effort: str | None, name: str, value: float | None) -> None:
    """Refuse `temperature` or `top_p` where the model's family does, as OpenAI words it."""
    sampling = model.family.sampling
    if value is None or sampling == "any" or (sampling == "at_none" and effort == "none"):
        return
    if sampling == "default_only":
        if value == 1:
            return
        raise invalid(
            f"Unsupported value: '{name}' does not support {value} with this model. "
            "Only the default (1) value is supported.",
            name,
            code="unsupported_value",
        )
    # gpt-5.2 answered with `code: null` in 2026 (OpenHands/software-agent-sdk#1837); the
    # o-series with `unsupported_parameter` (soberlemur/autopo#57).
    raise _unsupported_parameter(name, None if sampling == "at_none" else "unsupported_parameter")


def _unsupported_parameter(param: str, code: str | None) -> OpenAIError:
    message = f"Unsupported parameter: '{param}' is not supported with this model."
    return invalid(message, param, code=code)


def _listed(values: tuple[str, ...]) -> str:
    """OpenAI's list of values: 'a', 'b', and 'c'."""
    quoted = [f"'{value}'" for value in values]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return f"{', '.join(quoted[:-1])}, and {quoted[-1]}"


class Models:
    """/v1/models: every model served, in one unpaged list (SDK `SyncPage`)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"object": "list", "data": [model.public() for model in MODELS.values()]}


class Model:
    """/v1/models/{model}"""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_get(self, req: falcon.Request, resp: falcon.Response, model: str) -> None:
        served = served_model(model)
        if served is None:
            # Observed for GET /v1/models/gpt-4 (trigaten/Learn_Prompting#1008).
            raise OpenAIError(
                404, f"The model '{model}' does not exist", param="model", code="model_not_found"
            )
        resp.media = served.public()
