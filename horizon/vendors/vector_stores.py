"""Horizon's OpenAI vector stores, found by their mark: one per client with knowledge files.

A store carries metadata `managed_by=horizon` and `client=<id>`. Reconcile's knowledge
provider manages them; the worker searches the one a client's listing names.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from horizon.vendors.retry import DEFAULT_POLICY, RetryPolicy, openai_records

MANAGED_BY = "horizon"
PAGE_LIMIT = 100  # the most OpenAI serves per page


def store_name(client_id: str) -> str:
    return f"horizon:{client_id}"


def marked_stores(openai: Any, policy: RetryPolicy = DEFAULT_POLICY) -> Iterator[Any]:
    """Every vector store carrying Horizon's mark, newest first."""
    listing = lambda: openai.vector_stores.list(limit=PAGE_LIMIT)  # noqa: E731
    for store in openai_records(listing, policy):
        metadata = store.metadata or {}
        if metadata.get("managed_by") == MANAGED_BY and metadata.get("client"):
            yield store


def vector_store_ids(openai: Any, policy: RetryPolicy = DEFAULT_POLICY) -> dict[str, str]:
    """Client id -> its vector store id, for the file_search tool of the Responses API."""
    ids: dict[str, str] = {}
    for store in marked_stores(openai, policy):
        ids.setdefault(store.metadata["client"], store.id)  # newest first: the newest wins
    return ids
