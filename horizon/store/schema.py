"""The store's tables, as SQLAlchemy Core metadata: the current shape the migrations build.

Times are epoch seconds (floats) so SQLite and PostgreSQL store and compare them alike.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# Inbound messages as Twilio delivered them, and every outbound part Horizon sent.
messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sid", String(64), nullable=True, unique=True),
    Column("direction", String(8), nullable=False),  # inbound | outbound
    Column("client_id", String(48), nullable=True),  # None: an unrouted inbound message
    Column("user_number", String(32), nullable=False),  # the end user, E.164
    Column("client_number", String(32), nullable=False),  # the business number, E.164
    Column("channel", String(16), nullable=False),  # whatsapp | sms
    Column("body", Text, nullable=False, default=""),
    Column("media", Text, nullable=True),  # JSON list of {"url", "content_type"}
    # inbound: queued, answered, ignored, unrouted, failed; outbound: Twilio's statuses
    Column("status", String(16), nullable=False),
    Column("error", Text, nullable=True),
    Column("turn_id", Integer, nullable=True),
    Column("part", Integer, nullable=True),  # outbound: 1-based part of its reply
    Column("input_tokens", Integer, nullable=True),
    Column("output_tokens", Integer, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("answered_at", Float, nullable=True),  # inbound: when its reply was sent
)
Index("ix_messages_pair_time", messages.c.client_id, messages.c.user_number, messages.c.created_at)
Index("ix_messages_client_time", messages.c.client_id, messages.c.created_at)
# `horizon logs` across every client: a window of time, or one user's messages anywhere.
Index("ix_messages_time", messages.c.created_at)
Index("ix_messages_user_time", messages.c.user_number, messages.c.created_at)
# `horizon stats` and `horizon clients` read a month of every client's messages: with every
# column their aggregates need in the index, they read the index alone, client by client
# in time order (horizon/queries/figures.py; bench/ops.py prints the plans).
Index(
    "ix_messages_client_time_figures",
    messages.c.client_id,
    messages.c.created_at,
    messages.c.direction,
    messages.c.channel,
    messages.c.status,
    messages.c.user_number,
    messages.c.answered_at,
)

# One turn answers one or more inbound messages of a (client, user) pair.
turns = Table(
    "turns",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(48), nullable=False),
    Column("user_number", String(32), nullable=False),
    # answer, fallback, paused, limit, opt_out, opt_in, silent
    Column("kind", String(16), nullable=True),
    Column("parts", Text, nullable=True),  # JSON list of the reply's parts, saved before sending
    Column("parts_sent", Integer, nullable=False, default=0),
    Column("model", String(64), nullable=True),
    Column("response_id", String(64), nullable=True),
    Column("input_tokens", Integer, nullable=False, default=0),
    Column("output_tokens", Integer, nullable=False, default=0),
    Column("error", Text, nullable=True),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float, nullable=True),
    # The outbox: how many times Twilio would not take the reply, and the last reason. A
    # turn with failures and no finish waits to be tried again (store/outbox.py).
    Column("send_failures", Integer, nullable=False, default=0, server_default="0"),
    Column("send_error", Text, nullable=True),
)
Index("ix_turns_client_time", turns.c.client_id, turns.c.started_at)
Index("ix_turns_pair_kind", turns.c.client_id, turns.c.user_number, turns.c.kind)
Index(  # the same for a month of turns: kinds, and tokens by model
    "ix_turns_client_time_figures",
    turns.c.client_id,
    turns.c.started_at,
    turns.c.kind,
    turns.c.model,
    turns.c.input_tokens,
    turns.c.output_tokens,
)

# The work queue: inbound messages still to be answered, claimed by the turn answering them.
work = Table(
    "work",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", Integer, ForeignKey("messages.id"), nullable=False, unique=True),
    Column("client_id", String(48), nullable=False),
    Column("user_number", String(32), nullable=False),
    Column("state", String(8), nullable=False),  # pending | claimed | done
    Column("turn_id", Integer, ForeignKey("turns.id"), nullable=True),
    Column("enqueued_at", Float, nullable=False),
    Column("claimed_at", Float, nullable=True),
    Column("done_at", Float, nullable=True),
    # Turns of this message that ended in an unexpected error; the worker gives up at a cap.
    Column("attempts", Integer, nullable=False, default=0, server_default="0"),
    # The worker whose turn holds a claimed message, and until when unless it renews.
    Column("owner", String(96), nullable=True),
    Column("lease_until", Float, nullable=True),
)
Index("ix_work_state_pair", work.c.state, work.c.client_id, work.c.user_number)
# A pair's open work and a turn's claimed work are read on every turn: without these,
# each read scans the whole queue, which only grows.
Index("ix_work_pair_state", work.c.client_id, work.c.user_number, work.c.state)
Index("ix_work_turn", work.c.turn_id)

conversations = Table(
    "conversations",
    metadata,
    Column("client_id", String(48), primary_key=True),
    Column("user_number", String(32), primary_key=True),
    Column("conversation_id", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_activity", Float, nullable=False),
)

opt_outs = Table(
    "opt_outs",
    metadata,
    Column("client_id", String(48), primary_key=True),
    Column("user_number", String(32), primary_key=True),
    Column("opted_out", Boolean, nullable=False),
    Column("keyword", String(32), nullable=False),
    Column("updated_at", Float, nullable=False),
)

# Tokens each client's turns used, per UTC month and model: what `monthly_budget_usd` is
# checked against at the start of every turn, by every replica, in one read of a few rows
# (summing a month of turns each time would cost more as the month goes on).
monthly_usage = Table(
    "monthly_usage",
    metadata,
    Column("client_id", String(48), primary_key=True),
    Column("month", String(7), primary_key=True),  # "2026-03", UTC
    Column("model", String(64), primary_key=True),  # "" when the model was not recorded
    Column("input_tokens", BigInteger, nullable=False, default=0),
    Column("output_tokens", BigInteger, nullable=False, default=0),
)

# Every `horizon serve` process (a replica), named by its worker's owner id: it writes a
# heartbeat every few seconds and its stop on a clean exit, so the panel can tell which
# replicas serve (a heartbeat older than a few intervals: gone without saying so).
replicas = Table(
    "replicas",
    metadata,
    Column("id", String(96), primary_key=True),  # the worker's owner id: host:pid:tag
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("version", String(32), nullable=False),  # Horizon's version
    Column("started_at", Float, nullable=False),
    Column("heartbeat_at", Float, nullable=False),
    Column("config_commit", String(64), nullable=True),  # the commit its config was read at
    Column("stopped_at", Float, nullable=True),
)
Index("ix_replicas_heartbeat", replicas.c.heartbeat_at)

# Every configuration load of a replica: at startup, and each reload (SIGHUP, /api/reload,
# the directory watcher), applied or rejected.
config_events = Table(
    "config_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("replica", String(96), nullable=True),
    Column("trigger", String(16), nullable=False),  # startup | signal | api | watch
    Column("ok", Boolean, nullable=False),
    Column("commit", String(64), nullable=True),
    Column("clients", Integer, nullable=True),  # the clients of the applied config
    Column("error", Text, nullable=True),  # why it was rejected: the first error, and how many
)
Index("ix_config_events_at", config_events.c.at)

# Delivery statuses Twilio reported for a sid the store did not know yet: the callback can
# arrive (at any replica) before the worker has recorded the part it sent. Applied when the
# part is recorded, or by the worker's sweep; forgotten after an hour (another app's sids).
early_statuses = Table(
    "early_statuses",
    metadata,
    Column("sid", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("error", Text, nullable=True),
    Column("received_at", Float, nullable=False),
)
Index("ix_early_statuses_received", early_statuses.c.received_at)

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("applied_at", Float, nullable=False),
)
