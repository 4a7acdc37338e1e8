"""Opt-out words, batches around them, and the budget estimate."""

from __future__ import annotations

import calendar
import time

from horizon.store.records import Usage, WorkItem
from horizon.worker.policy import Keywords, estimated_cost, month_start, next_batch


def item(n: int, body: str, turn_id: int | None = None) -> WorkItem:
    return WorkItem(
        n, n, f"SM{n}", "c", "+34600000001", "+34910000101", "whatsapp", body, (), float(n), turn_id
    )


def test_opt_out_words_match_whole_messages_only():
    keywords = Keywords()
    assert keywords.match(" baja ") == ("opt_out", "BAJA")
    assert keywords.match("STOP!") == ("opt_out", "STOP")
    assert keywords.match("Alta") == ("opt_in", "ALTA")
    assert keywords.match("no pares, stop") is None


def test_a_keyword_is_a_turn_of_its_own():
    keywords = Keywords()
    items = [item(1, "hola"), item(2, "qué tal"), item(3, "BAJA"), item(4, "adiós")]
    assert [i.id for i in next_batch(items, keywords)] == [1, 2]
    assert [i.id for i in next_batch(items[2:], keywords)] == [3]


def test_a_resumed_turn_keeps_its_own_messages():
    items = [item(1, "hola", turn_id=7), item(2, "otra", turn_id=7), item(3, "nueva")]
    assert [i.id for i in next_batch(items, Keywords())] == [1, 2]


def test_cost_estimate_prices_unknown_models_high():
    known = estimated_cost([Usage("gpt-5.4-mini", 1_000_000, 0)])
    unknown = estimated_cost([Usage("mystery", 1_000_000, 0)])
    assert 0 < known < unknown


def test_month_start_is_the_first_of_the_utc_month():
    now = calendar.timegm((2026, 3, 17, 12, 0, 0))
    assert time.gmtime(month_start(now))[:6] == (2026, 3, 1, 0, 0, 0)
