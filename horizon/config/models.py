"""Which sampling and reasoning parameters each OpenAI model family accepts.

OpenAI answers 400 to a parameter its model rejects, and every reply of that client would
fail. So `horizon validate` checks each client file against this table, and the worker
builds every Responses request from it (`request_parameters`).

Sources (as of 2026-11-25):
- [SPEC] openai/openai-openapi @ 5162af9 (2026-05-13), `ReasoningEffort.description`:
  "gpt-5.1 defaults to none … supported values for gpt-5.1 are none, low, medium, and
  high"; "All models before gpt-5.1 default to medium reasoning effort, and do not
  support none"; "The gpt-5-pro model defaults to (and only supports) high".
- [GUIDE] OpenAI's guide, sections `latest-model#gpt-5-1-parameter-compatibility` and
  `#gpt-54-parameter-compatibility`, as cited by vercel/ai PR #10940 / #11174 and
  tmc/langchaingo#1497: temperature, top_p and logprobs are accepted only on gpt-5.1 and
  later with reasoning effort `none`; any other reasoning configuration is an error.
- [TRUTH] community.openai.com thread 1371738, a truth table of efforts per model
  "verified against the OpenAI API" (gpt-5 family: minimal…high; gpt-5.2: no minimal).
- [SDK] openai 3.57 `types/shared/chat_model.py`: model ids and announced shutdown dates.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from horizon.config.client import Assistant

# The efforts a client file may set. OpenAI also has `xhigh` and `max` for a few models;
# they multiply cost and latency beyond what a chat reply needs, so Horizon leaves them out.
Effort = Literal["none", "minimal", "low", "medium", "high"]
EFFORTS: tuple[str, ...] = get_args(Effort)

TemperatureRule = Literal["always", "at_effort_none", "never"]


@dataclass(frozen=True)
class ModelFamily:
    """One family of models: an alias such as `gpt-5.4-mini` and its dated snapshots."""

    name: str
    temperature: TemperatureRule
    efforts: tuple[str, ...] = ()  # empty: not a reasoning model, `reasoning` is never sent
    default_effort: str | None = None  # as OpenAI documents it; None where it does not

    @property
    def reasoning(self) -> bool:
        return bool(self.efforts)

    def accepts_temperature(self, effort: str | None) -> bool:
        """Whether temperature may be sent with `effort` (None: the client sets none).

        Without an effort Horizon sends `none` explicitly along with the temperature, so
        the request never depends on a default OpenAI documents for gpt-5.1 alone.
        """
        if self.temperature == "at_effort_none":
            return effort in (None, "none")
        return self.temperature == "always"


def _families(
    names: str, temperature: TemperatureRule, efforts: str = "", default: str | None = None
) -> list[ModelFamily]:
    return [
        ModelFamily(name, temperature, tuple(efforts.split()), default) for name in names.split()
    ]


FAMILIES: tuple[ModelFamily, ...] = tuple(
    # Not reasoning models: sampling parameters always, `reasoning` never.
    _families("gpt-4o gpt-4o-mini gpt-4.1 gpt-4.1-mini", "always")
    # [SPEC] before gpt-5.1: default medium, no `none`; [GUIDE] no temperature at all.
    + _families("o3 o3-pro o1-pro", "never", "low medium high", "medium")
    + _families("gpt-5 gpt-5-mini gpt-5-nano", "never", "minimal low medium high", "medium")
    + _families("gpt-5-codex", "never", "low medium high", "medium")
    + _families("gpt-5-pro", "never", "high", "high")  # [SPEC] only high
    # [SPEC] gpt-5.1 defaults to none; [GUIDE] temperature only at none.
    + _families("gpt-5.1", "at_effort_none", "none low medium high", "none")
    + _families("gpt-5.1-codex-max", "never", "low medium high")
    # [GUIDE]/[TRUTH]; their default effort is stated only by third parties.
    + _families(
        "gpt-5.2 gpt-5.4 gpt-5.4-mini gpt-5.4-nano", "at_effort_none", "none low medium high"
    )
    + _families("gpt-5.2-pro", "never", "medium high")
)
_BY_NAME = {family.name: family for family in FAMILIES}

# [SDK] announced shutdown dates that have passed: OpenAI no longer serves these.
SHUT_DOWN = {
    "2026-10-23": "o1 o3-mini o4-mini gpt-4.1-nano gpt-4o-2024-05-13 gpt-4-turbo gpt-4 "
    "gpt-3.5-turbo",
    "2026-08-10": "gpt-5.2-chat-latest gpt-5.3-chat-latest",
    "2026-07-23": "gpt-5.1-codex gpt-5.1-chat-latest gpt-5-chat-latest",
    "2026-02-17": "chatgpt-4o-latest",
}
_SHUT_DOWN_ON = {name: day for day, names in SHUT_DOWN.items() for name in names.split()}

# A dated snapshot (gpt-5.4-mini-2026-03-17, or the older gpt-4-0613 form) is its family.
_SNAPSHOT = re.compile(r"^(?P<family>.+?)-(?:\d{4}-\d{2}-\d{2}|\d{4})$")


def family_name(model: str) -> str:
    """The family a model id belongs to: `gpt-5.4-mini-2026-03-17` is `gpt-5.4-mini`."""
    match = _SNAPSHOT.match(model)
    return match["family"] if match else model


def family_of(model: str) -> ModelFamily | None:
    """The family of a model id, dated snapshots included; None for a model not in the table."""
    return _BY_NAME.get(family_name(model))


@dataclass(frozen=True)
class ParameterProblem:
    """A parameter the model rejects (an error), or a model Horizon cannot check (a warning)."""

    field: str  # under `assistant`: model, temperature or reasoning_effort
    message: str
    warning: bool = False


def check_parameters(
    model: str, effort: str | None, temperature: float | None
) -> list[ParameterProblem]:
    """What is wrong with this combination of model, reasoning effort and temperature."""
    shut_down = _SHUT_DOWN_ON.get(model) or _SHUT_DOWN_ON.get(family_name(model))
    if shut_down:
        message = f"OpenAI shut {model} down on {shut_down}; choose another model"
        return [ParameterProblem("model", message)]
    family = family_of(model)
    if family is None:
        close = difflib.get_close_matches(model, list(_BY_NAME), n=1, cutoff=0.85)  # typos only
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        message = f"unknown model {model!r}{hint}; Horizon cannot check its parameters"
        return [ParameterProblem("model", message, warning=True)]
    problems = []
    if effort is not None and not family.reasoning:
        message = f"{model} is not a reasoning model; remove reasoning_effort"
        problems.append(ParameterProblem("reasoning_effort", message))
    elif effort is not None and effort not in family.efforts:
        accepted = ", ".join(family.efforts)
        message = f"{model} does not accept reasoning_effort {effort!r} (it accepts {accepted})"
        problems.append(ParameterProblem("reasoning_effort", message))
    if temperature is not None and not family.accepts_temperature(effort):
        message = (
            f"temperature needs reasoning_effort: none on {model} (got {effort})"
            if family.temperature == "at_effort_none"
            else f"{model} does not accept temperature, at any reasoning effort; remove it"
        )
        problems.append(ParameterProblem("temperature", message))
    return problems


def request_parameters(assistant: Assistant) -> dict:
    """The sampling, reasoning and length parameters of a client's Responses requests.

    `temperature` only where the model accepts it; `reasoning` only for reasoning models,
    when the client sets an effort or sends a temperature (which needs effort `none`). A
    model not in the table gets what the client file says: validate warned about it.
    """
    family = family_of(assistant.model)
    effort, temperature = assistant.reasoning_effort, assistant.temperature
    params: dict = {}
    if family is None:
        if temperature is not None:
            params["temperature"] = temperature
        if effort is not None:
            params["reasoning"] = {"effort": effort}
    else:
        if temperature is not None and family.accepts_temperature(effort):
            params["temperature"] = temperature
            if family.reasoning:
                effort = "none"
        if effort is not None and effort in family.efforts:
            params["reasoning"] = {"effort": effort}
    if assistant.max_output_tokens is not None:
        params["max_output_tokens"] = assistant.max_output_tokens
    return params
