"""The work queue: inbound messages stored and queued, then claimed by one worker at a time.

Several workers may share one database (PostgreSQL replicas, or processes on one SQLite
file). A turn claims its messages with one conditional UPDATE whose row count says
whether every one of them was won, so two workers never answer the same message. A
claim holds a lease: its owner renews it while the turn runs, and once it expires (the
owner died) any worker may take the turn over and resume it.
"""

from __future__ import annotations

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.exc import DBAPIError

from horizon.store.database import Database
from horizon.store.records import OUTBOX_OWNER, InboundMessage, WorkItem, media_from_json
from horizon.store.schema import messages, turns, work

OPEN = ("pending", "claimed")  # work not done yet; IN, unlike !=, can use an index
DEFAULT_LEASE = 10.0  # seconds a claim lasts unless renewed


class ClaimLost(Exception):
    """Some of the messages a claim asked for were taken by another worker (rolls back)."""


# PostgreSQL's deadlock_detected and serialization_failure: two claims that locked the
# same rows in different orders; the one rolled back lost, as if the other came first.
LOST_RACE_SQLSTATES = {"40P01", "40001"}


def _lost_race(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) in LOST_RACE_SQLSTATES


def _inbound_row(message: InboundMessage, now: float) -> dict:
    now = message.received_at or now
    return {
        "sid": message.sid,
        "direction": "inbound",
        "client_id": message.client_id,
        "user_number": message.user_number,
        "client_number": message.client_number,
        "channel": message.channel,
        "body": message.body,
        "media": message.media_json(),
        "status": "queued" if message.client_id else "unrouted",
        "created_at": now,
        "updated_at": now,
    }


class WorkQueue:
    """Inbound messages in, claimed turns out: what the webhook stores and the worker takes."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # A repeated MessageSid inserts nothing (and returns no id) instead of raising, so
        # duplicates need no savepoint and a batch of messages shares one transaction.
        self._insert_new_message = (
            db.insert(messages)
            .on_conflict_do_nothing(index_elements=["sid"])
            .returning(messages.c.id)
        )

    # -- inbound -----------------------------------------------------------------------

    def record_inbound(self, message: InboundMessage) -> bool:
        """Store an inbound message (and queue it when routed); False if its sid is known."""
        return self.record_inbound_many([message])[0]

    def record_inbound_many(self, batch: list[InboundMessage]) -> list[bool]:
        """Store several inbound messages in one transaction (one commit for all of them).

        Each gets True when stored, False when its sid was already known (or repeated
        earlier in the batch); a message is queued for an answer when routed.
        """
        stored, now = [], self.db.clock()
        with self.db.engine.begin() as connection:
            for message in batch:
                row = _inbound_row(message, now)
                message_id = connection.execute(self._insert_new_message, row).scalar()
                stored.append(message_id is not None)
                if message_id is not None and message.client_id:
                    connection.execute(
                        work.insert(),
                        {
                            "message_id": message_id,
                            "client_id": message.client_id,
                            "user_number": message.user_number,
                            "state": "pending",
                            "enqueued_at": row["created_at"],
                        },
                    )
        return stored

    # -- reading the queue ---------------------------------------------------------------

    def claimable_pairs(self, owner: str | None = None) -> list[tuple[str, str]]:
        """(client, user) pairs with work a worker `owner` may claim now, oldest first.

        That is work nobody claimed, work whose claim was released or has expired, and
        `owner`'s own claims; pairs whose only open work is under another's live lease
        are left to that worker, and pairs whose reply waits in the outbox (their later
        messages too) are left until its next try is due.
        """
        now = self.db.clock()
        parked = work.alias("parked")
        waits_in_outbox = exists().where(
            parked.c.client_id == work.c.client_id,
            parked.c.user_number == work.c.user_number,
            parked.c.state == "claimed",
            parked.c.owner == OUTBOX_OWNER,
            parked.c.lease_until >= now,
        )
        query = (
            select(work.c.client_id, work.c.user_number, func.min(work.c.id).label("first"))
            .where(work.c.state.in_(OPEN), self._claimable(owner, now), ~waits_in_outbox)
            .group_by(work.c.client_id, work.c.user_number)
            .order_by("first")
        )
        with self.db.engine.connect() as connection:
            return [(row.client_id, row.user_number) for row in connection.execute(query)]

    def pending_work(self, client_id: str, user_number: str) -> list[WorkItem]:
        """The pair's unanswered messages in arrival order (claimed ones included)."""
        query = (
            select(work.c.id, work.c.message_id, work.c.turn_id, work.c.owner, work.c.lease_until)
            .add_columns(messages)
            .join(messages, messages.c.id == work.c.message_id)
            .where(
                work.c.client_id == client_id,
                work.c.user_number == user_number,
                work.c.state.in_(OPEN),
            )
            .order_by(work.c.id)
        )
        with self.db.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [
            WorkItem(
                id=row["id"],
                message_id=row["message_id"],
                sid=row["sid"],
                client_id=client_id,
                user_number=user_number,
                client_number=row["client_number"],
                channel=row["channel"],
                body=row["body"],
                media=media_from_json(row["media"]),
                received_at=row["created_at"],
                turn_id=row["turn_id"],
                owner=row["owner"],
                lease_until=row["lease_until"],
            )
            for row in rows
        ]

    # -- claims ----------------------------------------------------------------------------

    def start_turn(
        self,
        client_id: str,
        user_number: str,
        work_ids: list[int],
        owner: str = "local",
        lease: float = DEFAULT_LEASE,
    ) -> int | None:
        """Claim `work_ids` (pending messages) for a new turn of `owner`; its id, or None.

        None: another worker claimed some of them first, and nothing was changed.
        """
        now = self.db.clock()
        try:
            with self.db.engine.begin() as connection:
                turn_id = connection.execute(
                    turns.insert().values(
                        client_id=client_id,
                        user_number=user_number,
                        parts_sent=0,
                        input_tokens=0,
                        output_tokens=0,
                        started_at=now,
                    )
                ).inserted_primary_key[0]
                claimed = connection.execute(
                    update(work)
                    .where(work.c.id.in_(work_ids), work.c.state == "pending")
                    .values(
                        state="claimed",
                        turn_id=turn_id,
                        claimed_at=now,
                        owner=owner,
                        lease_until=now + lease,
                    )
                ).rowcount
                if claimed != len(work_ids):
                    raise ClaimLost
        except ClaimLost:
            return None
        except DBAPIError as error:
            if not _lost_race(error):
                raise
            return None
        return turn_id

    def resume_turn(
        self, turn_id: int, work_ids: list[int], owner: str, lease: float = DEFAULT_LEASE
    ) -> bool:
        """Take over turn `turn_id`'s messages if their claim was released, expired or is
        `owner`'s own; False (nothing changed) if another worker holds them."""
        now = self.db.clock()
        try:
            with self.db.engine.begin() as connection:
                taken = connection.execute(
                    update(work)
                    .where(
                        work.c.id.in_(work_ids),
                        work.c.turn_id == turn_id,
                        work.c.state == "claimed",
                        self._claimable(owner, now),
                    )
                    .values(owner=owner, lease_until=now + lease)
                ).rowcount
                if taken != len(work_ids):
                    raise ClaimLost
        except ClaimLost:
            return False
        except DBAPIError as error:
            if not _lost_race(error):
                raise
            return False
        return True

    def renew_leases(self, owner: str, lease: float = DEFAULT_LEASE) -> int:
        """Extend every claim `owner` holds by `lease` seconds from now; how many."""
        with self.db.engine.begin() as connection:
            return connection.execute(
                update(work)
                .where(work.c.state == "claimed", work.c.owner == owner)
                .values(lease_until=self.db.clock() + lease)
            ).rowcount

    def release_claims(self, owner: str, turn_id: int | None = None) -> int:
        """Give up `owner`'s claims (of one turn, or all): any worker may resume them now."""
        condition = and_(work.c.state == "claimed", work.c.owner == owner)
        if turn_id is not None:
            condition = and_(condition, work.c.turn_id == turn_id)
        with self.db.engine.begin() as connection:
            return connection.execute(
                update(work).where(condition).values(owner=None, lease_until=None)
            ).rowcount

    def record_failed_attempt(self, turn_id: int) -> int:
        """Count an unexpected failure of the turn on its messages; returns the attempts made."""
        mine = and_(work.c.turn_id == turn_id, work.c.state.in_(OPEN))
        with self.db.engine.begin() as connection:
            connection.execute(update(work).where(mine).values(attempts=work.c.attempts + 1))
            attempts = connection.execute(select(func.max(work.c.attempts)).where(mine)).scalar()
        return int(attempts or 0)

    def _claimable(self, owner: str | None, now: float | None = None):
        """Open work `owner` may claim: pending, or a claim released, expired or its own."""
        now = self.db.clock() if now is None else now
        return or_(
            work.c.state == "pending",
            work.c.owner.is_(None),
            work.c.lease_until < now,
            work.c.owner == owner,
        )
