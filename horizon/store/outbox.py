"""The reply outbox: turns whose reply Twilio would not take, parked until their next try.

A parked turn keeps its claim on its messages, held by the outbox (`OUTBOX_OWNER`) instead
of a worker, with the lease running until the next try. Once it runs out, any worker takes
the turn over as it takes over a dead worker's, and resumes sending where it stopped; until
then the user's later messages wait behind it, so replies keep their order. Being in the
store, a parked reply outlives restarts and is seen by every replica.
"""

from __future__ import annotations

from sqlalchemy import func, select, update

from horizon.store.database import Database
from horizon.store.records import OUTBOX_OWNER
from horizon.store.schema import turns, work


class Outbox:
    """Parks turns whose reply could not be sent, and says what waits there."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def park(self, turn_id: int, until: float, error: str) -> int:
        """Hand the turn's claim to the outbox until `until`; returns its send failures."""
        with self.db.engine.begin() as connection:
            connection.execute(
                update(work)
                .where(work.c.turn_id == turn_id, work.c.state == "claimed")
                .values(owner=OUTBOX_OWNER, lease_until=until)
            )
            connection.execute(
                update(turns)
                .where(turns.c.id == turn_id)
                .values(send_failures=turns.c.send_failures + 1, send_error=error)
            )
            failures = select(turns.c.send_failures).where(turns.c.id == turn_id)
            return int(connection.execute(failures).scalar_one())

    def waiting(self) -> dict[str, tuple[int, float]]:
        """Per client: the replies waiting to be sent again, and when the oldest's turn began.

        A waiting reply is an unfinished turn that failed to send; its messages are still
        claimed (by the outbox, or by the worker trying it now). Claimed work is only what is
        under way, so the `work` index keeps this cheap however long the tables grow.
        """
        claimed = select(work.c.turn_id).where(work.c.state == "claimed")
        query = (
            select(turns.c.client_id, func.count(), func.min(turns.c.started_at))
            .where(
                turns.c.id.in_(claimed),
                turns.c.send_failures > 0,
                turns.c.finished_at.is_(None),
            )
            .group_by(turns.c.client_id)
        )
        with self.db.engine.connect() as connection:
            rows = connection.execute(query).all()
        return {client: (int(count), float(oldest)) for client, count, oldest in rows}
