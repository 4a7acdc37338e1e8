"""Prometheus metrics of the webhook and its worker, labelled by client, on their own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    """Every metric Horizon exports; one instance per app, so tests never share counters."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.inbound = Counter(
            "horizon_inbound_messages",
            "Inbound messages by outcome (stored, duplicate, unrouted, rejected).",
            ["client", "outcome"],
            registry=r,
        )
        self.ack_seconds = Histogram(
            "horizon_inbound_ack_seconds",
            "Time to store and acknowledge an inbound message.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=r,
        )
        self.replies = Counter(
            "horizon_replies",
            "Turns by kind (answer, fallback, paused, limit, opt_out…).",
            ["client", "kind"],
            registry=r,
        )
        self.reply_seconds = Histogram(
            "horizon_reply_seconds",
            "From the first message of a turn to its last part sent.",
            ["client"],
            buckets=(0.5, 1, 2, 3, 5, 8, 13, 21, 34, 60, 120),
            registry=r,
        )
        self.parts_sent = Counter(
            "horizon_outbound_parts", "Message parts sent through Twilio.", ["client"], registry=r
        )
        self.vendor_errors = Counter(
            "horizon_vendor_errors",
            "Vendor calls that failed after retries.",
            ["client", "vendor"],
            registry=r,
        )
        self.model_incomplete = Counter(
            "horizon_model_incomplete",
            "Model replies not sent (the fallback was), by reason: max_output_tokens, "
            "content_filter, no_text…",
            ["client", "reason"],
            registry=r,
        )
        self.tokens = Counter(
            "horizon_model_tokens", "Model tokens used.", ["client", "kind"], registry=r
        )
        self.statuses = Counter(
            "horizon_delivery_statuses",
            "Delivery status callbacks by status.",
            ["status"],
            registry=r,
        )
        self.delivery_errors = Counter(
            "horizon_delivery_errors",
            "Outbound messages Twilio reported failed or undelivered, by Twilio error code.",
            ["code"],
            registry=r,
        )
        self.pairs_active = Gauge(
            "horizon_conversations_active",
            "(client, user) pairs with unanswered messages.",
            registry=r,
        )
        # Read from the store, so every replica shows the whole outbox (aggregate with max).
        self.outbox_replies = Gauge(
            "horizon_outbox_replies",
            "Replies Twilio has not taken yet, waiting in the outbox to be tried again.",
            ["client"],
            registry=r,
        )
        self.outbox_oldest_seconds = Gauge(
            "horizon_outbox_oldest_seconds",
            "Age of the oldest reply waiting in the outbox, from the start of its turn.",
            ["client"],
            registry=r,
        )
        self._outbox_clients: set[str] = set()
        self.config_reloads = Counter(
            "horizon_config_reloads",
            "Config reloads by result (applied, rejected).",
            ["result"],
            registry=r,
        )
        self.connections_shed = Counter(
            "horizon_connections_shed",
            "Connections the webhook closed to protect itself, by reason (evicted, "
            "request_timeout, refused, head_too_large).",
            ["reason"],
            registry=r,
        )

    def show_outbox(self, waiting: dict[str, tuple[int, float]]) -> None:
        """Set the outbox gauges: client -> (replies waiting, oldest age in seconds).

        A client no longer listed shows 0, so an emptied outbox is seen to be empty.
        """
        for client in self._outbox_clients - waiting.keys():
            self.outbox_replies.labels(client).set(0)
            self.outbox_oldest_seconds.labels(client).set(0)
        for client, (depth, age) in waiting.items():
            self.outbox_replies.labels(client).set(depth)
            self.outbox_oldest_seconds.labels(client).set(age)
        self._outbox_clients |= waiting.keys()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
