"""Usage limits: the hour a user's message count covers, and the estimated spend a
client's monthly budget is compared against (the notices are the client's texts)."""

from __future__ import annotations

from horizon.store.records import Usage

HOUR = 3600.0

# USD per million (input, output) tokens: estimates for the monthly budget guard.
MODEL_PRICES: dict[str, tuple[float, float]] = {
    "gpt-5.4-mini": (0.25, 2.0),
    "gpt-5.4-nano": (0.05, 0.4),
    "gpt-5.4": (1.25, 10.0),
    "gpt-4.1-mini": (0.4, 1.6),
    "gpt-4o-mini": (0.15, 0.6),
}
UNKNOWN_MODEL_PRICE = (1.25, 10.0)  # priced high, so an unknown model does not overspend


def estimated_cost(usages: list[Usage]) -> float:
    """Estimated USD spent for token `usages`."""
    total = 0.0
    for usage in usages:
        per_input, per_output = MODEL_PRICES.get(usage.model or "", UNKNOWN_MODEL_PRICE)
        total += usage.input_tokens * per_input / 1e6 + usage.output_tokens * per_output / 1e6
    return total
