"""`horizon check --live-model`: one tiny Responses request per distinct (model, parameters).

Validation checks parameters against Horizon's own table of model families; only the API
can say it accepts them. Each probe sends the clients' own sampling and reasoning
parameters with a one-line input and the smallest `max_output_tokens` the API allows, and
reports what it cost. A reply cut short by that small limit still proves the parameters.
"""

from __future__ import annotations

import json
from typing import Any

from horizon.config.fleet import Fleet
from horizon.config.models import request_parameters
from horizon.ops.findings import FAIL, PASS, Finding
from horizon.store.records import Usage
from horizon.vendors.errors import VendorError
from horizon.vendors.retry import RetryPolicy, vendor_call
from horizon.worker.limits import estimated_cost

PROBE_INPUT = "Reply with the single word OK."
PROBE_TOKENS = 16  # the least max_output_tokens the Responses API takes
PROBE_POLICY = RetryPolicy(attempts=3, base_delay=0.5, max_delay=2.0, budget=20.0)


def probe_pairs(fleet: Fleet) -> dict[tuple[str, str], tuple[dict, list[str]]]:
    """(model, parameters as JSON) -> (the parameters, the clients that send them)."""
    pairs: dict[tuple[str, str], tuple[dict, list[str]]] = {}
    for client in fleet:
        params = request_parameters(client.assistant)
        params.pop("max_output_tokens", None)
        key = (client.assistant.model, json.dumps(params, sort_keys=True))
        pairs.setdefault(key, (params, []))[1].append(client.id)
    return pairs


def probe_models(openai: Any, fleet: Fleet, policy: RetryPolicy = PROBE_POLICY) -> list[Finding]:
    """One request per pair; a refusal names the clients to change."""
    findings, spent = [], 0.0
    for (model, text), (params, clients) in sorted(probe_pairs(fleet).items()):
        subject = f"{model} {text}" if params else model
        request = {
            "model": model,
            "input": PROBE_INPUT,
            "max_output_tokens": PROBE_TOKENS,
            **params,
        }
        try:
            response = vendor_call(
                lambda request=request: openai.responses.create(**request), policy
            )
        except VendorError as error:
            fix = f"change the model or its parameters in: {', '.join(clients)}"
            findings.append(Finding("live model", subject, FAIL, str(error), fix))
            continue
        cost = _cost(model, response)
        spent += cost
        detail = f"accepted ({response.status}, {_tokens(response)} tokens, ≈ ${cost:.6f})"
        findings.append(Finding("live model", subject, PASS, detail))
    findings.append(Finding("live model", "cost", PASS, f"≈ ${spent:.6f} in all (an estimate)"))
    return findings


def _tokens(response: Any) -> int:
    usage = response.usage
    return (usage.input_tokens + usage.output_tokens) if usage else 0


def _cost(model: str, response: Any) -> float:
    usage = response.usage
    if usage is None:
        return 0.0
    return estimated_cost([Usage(model, usage.input_tokens, usage.output_tokens)])
