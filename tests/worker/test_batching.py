"""Which waiting messages one turn answers: keywords stand alone, resumed turns keep theirs."""

from __future__ import annotations

from horizon.store.records import WorkItem
from horizon.worker.batching import next_batch
from horizon.worker.keywords import Keywords


def item(n: int, body: str, turn_id: int | None = None) -> WorkItem:
    return WorkItem(
        n, n, f"SM{n}", "c", "+34600000001", "+34910000101", "whatsapp", body, (), float(n), turn_id
    )


def test_a_keyword_is_a_turn_of_its_own():
    keywords = Keywords()
    items = [item(1, "hola"), item(2, "qué tal"), item(3, "BAJA"), item(4, "adiós")]
    assert [i.id for i in next_batch(items, keywords)] == [1, 2]
    assert [i.id for i in next_batch(items[2:], keywords)] == [3]


def test_a_resumed_turn_keeps_its_own_messages():
    items = [item(1, "hola", turn_id=7), item(2, "otra", turn_id=7), item(3, "nueva")]
    assert [i.id for i in next_batch(items, Keywords())] == [1, 2]
