"""Turns and what they send: a reply saved before it goes out, each part recorded as sent,
and the delivery statuses Twilio reports for it afterwards."""

from __future__ import annotations

import json

from sqlalchemy import Connection, select, update

from horizon.store.database import Database
from horizon.store.records import Turn, Usage
from horizon.store.schema import conversations, messages, turns, work
from horizon.store.users import add_monthly_usage

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


class Replies:
    """A turn's reply, from saved to sent to delivered."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def turn(self, turn_id: int) -> Turn:
        with self.db.engine.connect() as connection:
            row = connection.execute(select(turns).where(turns.c.id == turn_id)).mappings().one()
        parts = tuple(json.loads(row["parts"])) if row["parts"] else ()
        return Turn(
            row["id"],
            row["client_id"],
            row["user_number"],
            row["kind"],
            parts,
            row["parts_sent"],
            row["started_at"],
            row["error"],
            row["send_failures"],
        )

    def sent_sids(self, client_id: str, user_number: str, since: float) -> set[str]:
        """The sids of the parts sent to the pair since `since` that the store knows of."""
        query = select(messages.c.sid).where(
            messages.c.client_id == client_id,
            messages.c.user_number == user_number,
            messages.c.direction == "outbound",
            messages.c.created_at >= since,
        )
        with self.db.engine.connect() as connection:
            return set(connection.execute(query).scalars())

    def save_reply(
        self,
        turn_id: int,
        kind: str,
        parts: list[str],
        usage: Usage | None = None,
        response_id: str | None = None,
        error: str | None = None,
    ) -> None:
        """Record what the turn will send, before sending it, so a restart resumes it.

        `usage` is also added to the client's month, which its budget is checked against.
        """
        values = {"kind": kind, "parts": json.dumps(parts), "error": error}
        if usage is not None:
            values |= {
                "model": usage.model,
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "response_id": response_id,
            }
        with self.db.engine.begin() as connection:
            connection.execute(update(turns).where(turns.c.id == turn_id).values(**values))
            if usage is not None:  # counted in the month the turn began, as turns are
                query = select(turns.c.client_id, turns.c.started_at).where(turns.c.id == turn_id)
                client_id, started_at = connection.execute(query).one()
                add_monthly_usage(self.db, connection, client_id, usage, started_at)

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
        now = self.db.clock()
        client_number, user_number, channel = sender
        with self.db.engine.begin() as connection:
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
        with self.db.engine.begin() as connection:
            _finish_turn(connection, turn_id, status, error, self.db.clock())

    def update_status(self, sid: str, status: str, error: str | None = None) -> bool:
        """Move an outbound message's status forward; False if the sid is not ours."""
        rank = OUTBOUND_STATUS_RANK.get(status, 0)
        earlier = [name for name, value in OUTBOUND_STATUS_RANK.items() if value < rank]
        with self.db.engine.begin() as connection:
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
                .values(status=status, error=error, updated_at=self.db.clock())
            )
        return True
