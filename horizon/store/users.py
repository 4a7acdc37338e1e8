"""What the store knows of each (client, user) pair: its conversation, its opt-out, and
the recent volume and spend that its limits are checked against."""

from __future__ import annotations

import time

from sqlalchemy import Connection, func, select

from horizon.store.database import Database
from horizon.store.records import Usage
from horizon.store.schema import conversations, messages, monthly_usage, opt_outs, turns


def usage_month(at: float) -> str:
    """The UTC month of epoch seconds `at`, as `monthly_usage` keys it: '2026-03'."""
    return time.strftime("%Y-%m", time.gmtime(at))


def add_monthly_usage(
    db: Database, connection: Connection, client_id: str, usage: Usage, at: float
) -> None:
    """Add `usage` to the client's month, in `connection`'s transaction (one statement, so
    replicas adding at once both count)."""
    row = {
        "client_id": client_id,
        "month": usage_month(at),
        "model": usage.model or "",
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
    }
    statement = db.insert(monthly_usage).values(row)
    statement = statement.on_conflict_do_update(
        index_elements=["client_id", "month", "model"],
        set_={
            name: monthly_usage.c[name] + statement.excluded[name]
            for name in ("input_tokens", "output_tokens")
        },
    )
    connection.execute(statement)


class Users:
    """Per-pair state the worker reads before asking the model, and writes after."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def conversation(self, client_id: str, user_number: str) -> tuple[str, float] | None:
        """The pair's OpenAI conversation id and its last activity, if it has one."""
        query = select(conversations.c.conversation_id, conversations.c.last_activity).where(
            conversations.c.client_id == client_id, conversations.c.user_number == user_number
        )
        with self.db.engine.connect() as connection:
            row = connection.execute(query).first()
        return (row.conversation_id, row.last_activity) if row else None

    def save_conversation(self, client_id: str, user_number: str, conversation_id: str) -> None:
        """Remember the pair's conversation (new or renewed) and mark it active now."""
        now = self.db.clock()
        row = {
            "client_id": client_id,
            "user_number": user_number,
            "conversation_id": conversation_id,
            "created_at": now,
            "last_activity": now,
        }
        self.db.upsert(conversations, row, ("conversation_id", "last_activity"))

    def set_opt_out(self, client_id: str, user_number: str, opted_out: bool, keyword: str) -> None:
        row = {
            "client_id": client_id,
            "user_number": user_number,
            "opted_out": opted_out,
            "keyword": keyword,
            "updated_at": self.db.clock(),
        }
        self.db.upsert(opt_outs, row, ("opted_out", "keyword", "updated_at"))

    def is_opted_out(self, client_id: str, user_number: str) -> bool:
        query = select(opt_outs.c.opted_out).where(
            opt_outs.c.client_id == client_id, opt_outs.c.user_number == user_number
        )
        with self.db.engine.connect() as connection:
            return bool(connection.execute(query).scalar())

    def inbound_count_since(self, client_id: str, user_number: str, since: float) -> int:
        query = select(func.count()).where(
            messages.c.direction == "inbound",
            messages.c.client_id == client_id,
            messages.c.user_number == user_number,
            messages.c.created_at >= since,
        )
        with self.db.engine.connect() as connection:
            return int(connection.execute(query).scalar() or 0)

    def last_reply_of_kind(self, client_id: str, user_number: str, kind: str) -> float | None:
        """When the pair last got a reply of `kind` (e.g. a limit notice)."""
        query = select(func.max(turns.c.started_at)).where(
            turns.c.client_id == client_id,
            turns.c.user_number == user_number,
            turns.c.kind == kind,
            turns.c.parts_sent > 0,
        )
        with self.db.engine.connect() as connection:
            return connection.execute(query).scalar()

    def monthly_usage(self, client_id: str, at: float) -> list[Usage]:
        """Tokens the client's turns used in the UTC month of `at`, per model."""
        query = select(
            monthly_usage.c.model, monthly_usage.c.input_tokens, monthly_usage.c.output_tokens
        ).where(monthly_usage.c.client_id == client_id, monthly_usage.c.month == usage_month(at))
        with self.db.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [Usage(model or None, int(inp), int(out)) for model, inp, out in rows]

    def usage_since(self, client_id: str, since: float) -> list[Usage]:
        """Token usage of the client's turns since `since`, summed per model."""
        query = (
            select(turns.c.model, func.sum(turns.c.input_tokens), func.sum(turns.c.output_tokens))
            .where(
                turns.c.client_id == client_id,
                turns.c.started_at >= since,
                turns.c.model.is_not(None),
            )
            .group_by(turns.c.model)
        )
        with self.db.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [Usage(model, int(inp or 0), int(out or 0)) for model, inp, out in rows]
