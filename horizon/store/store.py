"""The durable store: one database, and the objects that read and write each part of it.

    store = Store.open("sqlite:///horizon.db")       # migrated to the newest schema
    store.queue.record_inbound(message)               # the work queue (queue.py)
    store.replies.save_reply(turn_id, "answer", parts) # turns and outbound parts (replies.py)
    store.users.is_opted_out(client_id, user)         # per-pair state (users.py)
    store.outbox.park(turn_id, until, error)          # replies Twilio would not take (outbox.py)
    store.replicas.heartbeat(replica_id, commit)      # who serves, and config loads (replicas.py)

Every method is one short transaction, synchronous (SQLAlchemy Core); the webhook and the
worker reach the same methods through `AsyncStore`, which runs them off the event loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Engine, select

from horizon.store.database import Database
from horizon.store.engine import make_engine
from horizon.store.migrations import migrate
from horizon.store.outbox import Outbox
from horizon.store.queue import WorkQueue
from horizon.store.replicas import Replicas
from horizon.store.replies import Replies
from horizon.store.schema import messages
from horizon.store.users import Users


class Store:
    """Horizon's database, migrated to the newest schema when opened."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        """`clock` gives the epoch seconds every stored time is taken from."""
        self.db = Database(engine, clock)
        self.queue = WorkQueue(self.db)
        self.replies = Replies(self.db)
        self.users = Users(self.db)
        self.outbox = Outbox(self.db)
        self.replicas = Replicas(self.db)

    @classmethod
    def open(cls, url: str, clock: Callable[[], float] = time.time) -> Store:
        engine = make_engine(url)
        migrate(engine)
        return cls(engine, clock)

    @property
    def engine(self) -> Engine:
        return self.db.engine

    @property
    def dialect(self) -> str:
        return self.db.dialect

    @property
    def clock(self) -> Callable[[], float]:
        return self.db.clock

    def close(self) -> None:
        self.db.close()

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        self.db.ping()

    def find_messages(self, **equal: object) -> list[dict]:
        """Messages whose columns equal the given values, oldest first, as dicts."""
        query = select(messages).order_by(messages.c.id)
        for column, value in equal.items():
            query = query.where(messages.c[column] == value)
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]
