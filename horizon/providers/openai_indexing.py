"""Waiting for OpenAI to index a vector store's files: bounded, with back-off and progress.

OpenAI answers an attach at once and indexes the file in the background; file search finds
nothing in it until then. Apply waits (at most `IndexWait.timeout`), so its report says what
OpenAI made of each file: indexed, failed with OpenAI's `last_error`, or still in progress.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from horizon.vendors.retry import RetryPolicy, openai_records, vendor_call

Progress = Callable[[str], None]
PAGE_LIMIT = 100  # the most OpenAI serves per page


@dataclass(frozen=True)
class IndexWait:
    """How long apply waits for OpenAI to index the files it attached, and how often it looks.

    Small text files take OpenAI seconds; large PDFs can take minutes. Past `timeout` apply
    stops waiting and says which files are still in progress: the next plan shows them.
    """

    timeout: float = 300.0
    first_poll: float = 0.1
    max_poll: float = 5.0
    report_every: float = 15.0


DEFAULT_INDEX_WAIT = IndexWait()


@dataclass(frozen=True)
class Indexing:
    """A store's files as OpenAI reports them: how many are still in progress, which failed."""

    in_progress: int = 0
    total: int = 0
    # path (or file id, for a file without Horizon's attributes) -> "code: message"
    failures: Mapping[str, str] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return "in_progress" if self.in_progress else "completed"

    def notice(self) -> str | None:
        """What the operator should know about the store's files, or None when all is well."""
        parts = []
        if self.failures:
            failed = "; ".join(f"{path} ({why})" for path, why in sorted(self.failures.items()))
            parts.append(
                f"OpenAI could not index {failed}. Horizon uploads a failed file again only "
                "when its content changes."
            )
        if self.in_progress:
            parts.append(
                f"OpenAI is still indexing {_files(self.in_progress)} of {self.total} (file "
                "search finds nothing in a file until it is indexed)."
            )
        return " ".join(parts) or None


def _files(count: int) -> str:
    return f"{count} file" if count == 1 else f"{count} files"


def failures(openai: Any, store_id: str, policy: RetryPolicy) -> dict[str, str]:
    """The store's failed files with OpenAI's reason, by the path Horizon attached them under."""
    listing = lambda: openai.vector_stores.files.list(  # noqa: E731
        store_id, filter="failed", limit=PAGE_LIMIT
    )
    found = {}
    for attached in openai_records(listing, policy):
        path = str((attached.attributes or {}).get("path") or attached.id)
        error = attached.last_error
        found[path] = f"{error.code}: {error.message}" if error else "no reason given"
    return found


def wait_for_indexing(
    openai: Any,
    store_id: str,
    client_id: str,
    policy: RetryPolicy,
    wait: IndexWait,
    progress: Progress | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Indexing:
    """Poll the store until none of its files is in progress, or `wait.timeout` has passed.

    One request per poll (the store's file counts), at growing intervals; the failed files
    are listed once at the end, and only when there are some.
    """
    started, interval, reported = clock(), wait.first_poll, None
    while True:
        store = vendor_call(lambda: openai.vector_stores.retrieve(store_id), policy)
        counts, elapsed = store.file_counts, clock() - started
        if not counts.in_progress or elapsed >= wait.timeout:
            break
        if progress is not None and (reported is None or elapsed - reported >= wait.report_every):
            progress(_progress_line(client_id, counts, elapsed, first=reported is None))
            reported = elapsed
        sleep(min(interval, wait.timeout - elapsed))
        interval = min(interval * 2, wait.max_poll)
    failed = failures(openai, store_id, policy) if counts.failed else {}
    return Indexing(counts.in_progress, counts.total, failed)


def _progress_line(client_id: str, counts: Any, elapsed: float, *, first: bool) -> str:
    if first:
        return f"waiting for OpenAI to index {_files(counts.in_progress)} of {client_id}…"
    return (
        f"still waiting for OpenAI to index {counts.in_progress} of {_files(counts.total)} "
        f"of {client_id} ({elapsed:.0f} s)…"
    )
