"""Which of a user's waiting messages one turn answers."""

from __future__ import annotations

from horizon.store.records import WorkItem
from horizon.worker.keywords import Keywords


def next_batch(items: list[WorkItem], keywords: Keywords) -> list[WorkItem]:
    """The messages one turn answers: a keyword alone, or the run of messages before one.

    Messages already claimed by an unfinished turn (a restart) are that turn's batch.
    """
    if items[0].turn_id is not None:
        return [item for item in items if item.turn_id == items[0].turn_id]
    if keywords.match(items[0].body) and not items[0].media:
        return items[:1]
    batch = []
    for item in items:
        if item.turn_id is not None or (keywords.match(item.body) and not item.media):
            break
        batch.append(item)
    return batch
