"""The durable store: inbound and outbound messages, turns, the work queue, conversations.

Every method is one short transaction. The store is synchronous (SQLAlchemy Core);
the webhook and the worker reach it through `AsyncStore`, which runs it off the event loop.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from sqlalchemy import Connection, Engine, Table, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from horizon.store.engine import make_engine
from horizon.store.migrations import migrate
from horizon.store.queue import WorkQueue
from horizon.store.records import Turn, Usage
from horizon.store.schema import conversations, messages, opt_outs, turns, work

OUTBOUND_STATUS_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "read": 5,
    "undelivered": 6,
    "failed": 6,
    "canceled": 6,
}


def _finish_turn(
    connection: Connection, turn_id: int, status: str, error: str | None, now: float
) -> None:
    """Close the turn and its messages, and count it as the pair's latest activity."""
    claimed = select(work.c.message_id).where(work.c.turn_id == turn_id)
    connection.execute(
        update(messages)
        .where(messages.c.id.in_(claimed))
        .values(status=status, error=error, updated_at=now, answered_at=now)
    )
    connection.execute(
        update(work).where(work.c.turn_id == turn_id).values(state="done", done_at=now)
    )
    connection.execute(update(turns).where(turns.c.id == turn_id).values(finished_at=now))
    # `memory_days` counts from the user's last answered message, not from the day the
    # conversation began: a user who keeps writing keeps their conversation.
    pair = select(turns.c.client_id, turns.c.user_number).where(turns.c.id == turn_id)
    client_id, user_number = connection.execute(pair).one()
    connection.execute(
        update(conversations)
        .where(
            conversations.c.client_id == client_id,
            conversations.c.user_number == user_number,
            conversations.c.last_activity < now,
        )
        .values(last_activity=now)
    )


class Store(WorkQueue):
    """Horizon's database, migrated to the newest schema when opened.

    The work queue's methods (storing inbound messages, claiming and resuming turns)
    come from `WorkQueue`.
    """

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        """`clock` gives the epoch seconds every stored time is taken from."""
        self.engine, self.clock = engine, clock
        self.dialect = engine.dialect.name

    @classmethod
    def open(cls, url: str, clock: Callable[[], float] = time.time) -> Store:
        engine = make_engine(url)
        migrate(engine)
        return cls(engine, clock)

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def turn(self, turn_id: int) -> Turn:
        with self.engine.connect() as connection:
            row = connection.execute(select(turns).where(turns.c.id == turn_id)).mappings().one()
        parts = tuple(json.loads(row["parts"])) if row["parts"] else ()
        return Turn(
            row["id"], row["client_id"], row["user_number"], row["kind"], parts, row["parts_sent"]
        )

    def save_reply(
        self,
        turn_id: int,
        kind: str,
        parts: list[str],
        usage: Usage | None = None,
        response_id: str | None = None,
        error: str | None = None,
    ) -> None:
        """Record what the turn will send, before sending it, so a restart resumes it."""
        values = {"kind": kind, "parts": json.dumps(parts), "error": error}
        if usage is not None:
            values |= {
                "model": usage.model,
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "response_id": response_id,
            }
        with self.engine.begin() as connection:
            connection.execute(update(turns).where(turns.c.id == turn_id).values(**values))

    def record_part_sent(
        self,
        turn: Turn,
        part: int,
        sid: str,
        sender: tuple[str, str, str],
        status: str,
        usage: Usage | None = None,
        finish: tuple[str, str | None] | None = None,
    ) -> None:
        """Store outbound part `part` (1-based) of `turn`; sender is (client#, user#, channel).

        `finish` (status, error), for the last part, also finishes the turn in the same
        transaction, as `finish_turn` would.
        """
        now = self.clock()
        client_number, user_number, channel = sender
        with self.engine.begin() as connection:
            connection.execute(
                messages.insert().values(
                    sid=sid,
                    direction="outbound",
                    client_id=turn.client_id,
                    user_number=user_number,
                    client_number=client_number,
                    channel=channel,
                    body=turn.parts[part - 1],
                    status=status,
                    turn_id=turn.id,
                    part=part,
                    input_tokens=usage.input_tokens if usage else None,
                    output_tokens=usage.output_tokens if usage else None,
                    created_at=now,
                    updated_at=now,
                )
            )
            connection.execute(update(turns).where(turns.c.id == turn.id).values(parts_sent=part))
            if finish is not None:
                _finish_turn(connection, turn.id, *finish, now)

    def finish_turn(self, turn_id: int, status: str, error: str | None = None) -> None:
        """Mark the turn's messages done; `status` is the inbound messages' final status."""
        with self.engine.begin() as connection:
            _finish_turn(connection, turn_id, status, error, self.clock())

    # -- status callbacks ----------------------------------------------------------------

    def update_status(self, sid: str, status: str, error: str | None = None) -> bool:
        """Move an outbound message's status forward; False if the sid is not ours."""
        rank = OUTBOUND_STATUS_RANK.get(status, 0)
        earlier = [name for name, value in OUTBOUND_STATUS_RANK.items() if value < rank]
        with self.engine.begin() as connection:
            found = connection.execute(
                select(messages.c.status).where(
                    messages.c.sid == sid, messages.c.direction == "outbound"
                )
            ).first()
            if found is None:
                return False
            connection.execute(
                update(messages)
                .where(messages.c.sid == sid, messages.c.status.in_(earlier))
                .values(status=status, error=error, updated_at=self.clock())
            )
        return True

    # -- conversations, opt-outs, limits --------------------------------------------------

    def conversation(self, client_id: str, user_number: str) -> tuple[str, float] | None:
        """The pair's OpenAI conversation id and its last activity, if it has one."""
        query = select(conversations.c.conversation_id, conversations.c.last_activity).where(
            conversations.c.client_id == client_id, conversations.c.user_number == user_number
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return (row.conversation_id, row.last_activity) if row else None

    def save_conversation(self, client_id: str, user_number: str, conversation_id: str) -> None:
        """Remember the pair's conversation (new or renewed) and mark it active now."""
        now = self.clock()
        row = {
            "client_id": client_id,
            "user_number": user_number,
            "conversation_id": conversation_id,
            "created_at": now,
            "last_activity": now,
        }
        self._upsert(conversations, row, ("conversation_id", "last_activity"))

    def set_opt_out(self, client_id: str, user_number: str, opted_out: bool, keyword: str) -> None:
        row = {
            "client_id": client_id,
            "user_number": user_number,
            "opted_out": opted_out,
            "keyword": keyword,
            "updated_at": self.clock(),
        }
        self._upsert(opt_outs, row, ("opted_out", "keyword", "updated_at"))

    def _upsert(self, table: Table, row: dict, changed: tuple[str, ...]) -> None:
        """Insert `row`, or update its `changed` columns where its primary key exists.

        One statement (INSERT ... ON CONFLICT DO UPDATE), so two replicas saving the
        same new row at once both succeed instead of one failing on the primary key.
        """
        insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        statement = insert(table).values(row)
        statement = statement.on_conflict_do_update(
            index_elements=[column.name for column in table.primary_key],
            set_={name: statement.excluded[name] for name in changed},
        )
        with self.engine.begin() as connection:
            connection.execute(statement)

    def is_opted_out(self, client_id: str, user_number: str) -> bool:
        query = select(opt_outs.c.opted_out).where(
            opt_outs.c.client_id == client_id, opt_outs.c.user_number == user_number
        )
        with self.engine.connect() as connection:
            return bool(connection.execute(query).scalar())

    def inbound_count_since(self, client_id: str, user_number: str, since: float) -> int:
        query = select(func.count()).where(
            messages.c.direction == "inbound",
            messages.c.client_id == client_id,
            messages.c.user_number == user_number,
            messages.c.created_at >= since,
        )
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar() or 0)

    def last_reply_of_kind(self, client_id: str, user_number: str, kind: str) -> float | None:
        """When the pair last got a reply of `kind` (e.g. a limit notice)."""
        query = select(func.max(turns.c.started_at)).where(
            turns.c.client_id == client_id,
            turns.c.user_number == user_number,
            turns.c.kind == kind,
            turns.c.parts_sent > 0,
        )
        with self.engine.connect() as connection:
            return connection.execute(query).scalar()

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
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [Usage(model, int(inp or 0), int(out or 0)) for model, inp, out in rows]

    # -- reading, for operations and tests ------------------------------------------------

    def find_messages(self, **equal: object) -> list[dict]:
        """Messages whose columns equal the given values, oldest first, as dicts."""
        query = select(messages).order_by(messages.c.id)
        for column, value in equal.items():
            query = query.where(messages.c[column] == value)
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]
