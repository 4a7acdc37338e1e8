"""Turns and what they send: a reply saved before it goes out, each part recorded as sent,
and the delivery statuses Twilio reports for it afterwards."""

from __future__ import annotations

import json

from sqlalchemy import Connection, delete, select, update

from horizon.store.database import Database
from horizon.store.records import Turn, Usage
from horizon.store.schema import conversations, early_statuses, messages, turns, work
from horizon.store.users import add_monthly_usage

EARLY_STATUS_TTL = 3600.0  # an unknown sid's status is kept this long for its message

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
            early = connection.execute(
                delete(early_statuses)
                .where(early_statuses.c.sid == sid)
                .returning(early_statuses.c.status, early_statuses.c.error)
            ).first()
            if early is not None:  # Twilio reported on the part before it was recorded
                _advance(connection, sid, early.status, early.error, now)
            connection.execute(update(turns).where(turns.c.id == turn.id).values(parts_sent=part))
            if finish is not None:
                _finish_turn(connection, turn.id, *finish, now)

    def finish_turn(self, turn_id: int, status: str, error: str | None = None) -> None:
        """Mark the turn's messages done; `status` is the inbound messages' final status."""
        with self.db.engine.begin() as connection:
            _finish_turn(connection, turn_id, status, error, self.db.clock())

    def update_status(self, sid: str, status: str, error: str | None = None) -> bool:
        """Move an outbound message's status forward; False if the sid is not known yet.

        An unknown sid's status is kept (`early_statuses`) for the part the worker has not
        recorded yet: Twilio can report it within milliseconds of taking the message.
        """
        now = self.db.clock()
        with self.db.engine.begin() as connection:
            found = connection.execute(
                select(messages.c.status).where(
                    messages.c.sid == sid, messages.c.direction == "outbound"
                )
            ).first()
            if found is None:
                _keep_early(self.db, connection, sid, status, error, now)
                return False
            _advance(connection, sid, status, error, now)
        return True

    def apply_early_statuses(self) -> int:
        """Give recorded parts the statuses that arrived before them; forget old unknown
        sids. Returns how many parts were updated (the worker's sweep calls this)."""
        now = self.db.clock()
        applied = 0
        with self.db.engine.begin() as connection:
            # The kept statuses first (a handful, usually none), then their parts by the
            # unique sid index: never a join that could read all messages every sweep.
            kept = connection.execute(select(early_statuses)).mappings().all()
            sids = [row["sid"] for row in kept]
            recorded = set()
            if sids:
                outbound = (messages.c.sid.in_(sids)) & (messages.c.direction == "outbound")
                recorded = set(connection.execute(select(messages.c.sid).where(outbound)).scalars())
            for row in kept:
                if row["sid"] not in recorded:
                    continue
                applied += _advance(connection, row["sid"], row["status"], row["error"], now)
                connection.execute(delete(early_statuses).where(early_statuses.c.sid == row["sid"]))
            connection.execute(
                delete(early_statuses).where(early_statuses.c.received_at < now - EARLY_STATUS_TTL)
            )
        return applied


def _advance(connection: Connection, sid: str, status: str, error: str | None, now: float) -> int:
    """Set the outbound message's status if it moves it forward; 1 if it did."""
    rank = OUTBOUND_STATUS_RANK.get(status, 0)
    earlier = [name for name, value in OUTBOUND_STATUS_RANK.items() if value < rank]
    result = connection.execute(
        update(messages)
        .where(
            messages.c.sid == sid,
            messages.c.direction == "outbound",
            messages.c.status.in_(earlier),
        )
        .values(status=status, error=error, updated_at=now)
    )
    return result.rowcount


def _keep_early(
    db: Database, connection: Connection, sid: str, status: str, error: str | None, now: float
) -> None:
    """Keep the furthest status reported for a sid not recorded yet."""
    before = connection.execute(
        select(early_statuses.c.status).where(early_statuses.c.sid == sid)
    ).scalar()
    if before is None:
        connection.execute(
            db.insert(early_statuses)
            .values(sid=sid, status=status, error=error, received_at=now)
            .on_conflict_do_nothing(index_elements=["sid"])
        )
    elif OUTBOUND_STATUS_RANK.get(status, 0) > OUTBOUND_STATUS_RANK.get(before, 0):
        connection.execute(
            update(early_statuses)
            .where(early_statuses.c.sid == sid)
            .values(status=status, error=error, received_at=now)
        )
