"""Durable state of the webhook: messages, turns, the work queue, conversations, opt-outs."""

from horizon.store.aio import AsyncStore
from horizon.store.records import InboundMessage, Media, Turn, Usage, WorkItem
from horizon.store.store import Store

__all__ = ["AsyncStore", "InboundMessage", "Media", "Store", "Turn", "Usage", "WorkItem"]
