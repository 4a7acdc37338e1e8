"""The budget estimate and the month it covers."""

from __future__ import annotations

import calendar
import time

from horizon.store.records import Usage
from horizon.worker.limits import estimated_cost, month_start


def test_cost_estimate_prices_unknown_models_high():
    known = estimated_cost([Usage("gpt-5.4-mini", 1_000_000, 0)])
    unknown = estimated_cost([Usage("mystery", 1_000_000, 0)])
    assert 0 < known < unknown


def test_month_start_is_the_first_of_the_utc_month():
    now = calendar.timegm((2026, 3, 17, 12, 0, 0))
    assert time.gmtime(month_start(now))[:6] == (2026, 3, 1, 0, 0, 0)
