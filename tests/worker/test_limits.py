"""The budget estimate."""

from __future__ import annotations

from horizon.store.records import Usage
from horizon.worker.limits import estimated_cost


def test_cost_estimate_prices_unknown_models_high():
    known = estimated_cost([Usage("gpt-5.4-mini", 1_000_000, 0)])
    unknown = estimated_cost([Usage("mystery", 1_000_000, 0)])
    assert 0 < known < unknown
