"""One user's rows, found and deleted: what `horizon forget` erases from the store."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table, delete, select

from horizon.store.schema import conversations, messages, opt_outs, turns, work
from horizon.store.store import Store

# Deleted in this order: work refers to messages and turns.
USER_TABLES: tuple[Table, ...] = (work, messages, turns, conversations, opt_outs)


@dataclass(frozen=True)
class UserTraces:
    """What the store holds of a user at OpenAI: conversation and stored response ids."""

    conversation_ids: tuple[str, ...]
    response_ids: tuple[str, ...]


def _of_user(table: Table, user_number: str, client_id: str | None):
    condition = table.c.user_number == user_number
    if client_id is not None:
        condition = condition & (table.c.client_id == client_id)
    return condition


def user_traces(store: Store, user_number: str, client_id: str | None = None) -> UserTraces:
    with store.engine.connect() as connection:
        conversation_ids = connection.execute(
            select(conversations.c.conversation_id)
            .where(_of_user(conversations, user_number, client_id))
            .order_by(conversations.c.client_id)
        ).scalars()
        found = tuple(conversation_ids)
        response_ids = connection.execute(
            select(turns.c.response_id)
            .where(_of_user(turns, user_number, client_id), turns.c.response_id.is_not(None))
            .order_by(turns.c.id)
        ).scalars()
        return UserTraces(found, tuple(response_ids))


def erase_user(store: Store, user_number: str, client_id: str | None = None) -> dict[str, int]:
    """Delete the user's rows in every table, in one transaction; rows deleted per table."""
    deleted: dict[str, int] = {}
    with store.engine.begin() as connection:
        for table in USER_TABLES:
            result = connection.execute(
                delete(table).where(_of_user(table, user_number, client_id))
            )
            deleted[table.name] = result.rowcount
    return deleted
