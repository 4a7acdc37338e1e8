"""Usage limits: the hour a user's message count covers, and the estimated spend a
client's monthly budget is compared against (the notices are the client's texts)."""

from __future__ import annotations

from horizon.config.prices import DEFAULT_PRICES, PriceTable
from horizon.store.records import Usage

HOUR = 3600.0


def estimated_cost(usages: list[Usage], prices: PriceTable = DEFAULT_PRICES) -> float:
    """Estimated USD spent for token `usages`, from the same price table `horizon stats`
    uses (a model missing from it is priced high, so the guard does not overspend)."""
    return sum(
        prices.tokens(usage.model, usage.input_tokens, usage.output_tokens) for usage in usages
    )
