"""Waiting for OpenAI to index a store's files, against the sandbox's timed processing."""

from __future__ import annotations

import time

from horizon.providers.openai_indexing import Indexing, IndexWait, wait_for_indexing
from horizon.vendors.retry import RetryPolicy

POLICY = RetryPolicy(base_delay=0.01)


def store_with(openai, *contents: bytes) -> str:
    store = openai.vector_stores.create(name="horizon:roma")
    for index, content in enumerate(contents):
        uploaded = openai.files.create(file=(f"f{index}.md", content), purpose="assistants")
        openai.vector_stores.files.create(
            store.id, file_id=uploaded.id, attributes={"path": f"roma/f{index}.md"}
        )
    return store.id


def test_waits_until_nothing_is_in_progress_and_reports_as_it_goes(start_sandbox):
    openai = start_sandbox(file_processing_seconds=1.2).openai()
    store_id = store_with(openai, b"uno", b"dos")
    lines: list[str] = []
    started = time.monotonic()

    indexing = wait_for_indexing(
        openai, store_id, "roma", POLICY, IndexWait(report_every=0.5), lines.append
    )

    assert time.monotonic() - started >= 1.0
    assert (indexing.status, indexing.in_progress, indexing.total) == ("completed", 0, 2)
    assert indexing.notice() is None
    assert lines[0] == "waiting for OpenAI to index 2 files of roma…"
    assert len(lines) >= 2
    later = "still waiting for OpenAI to index 2 of 2 files of roma ("
    assert all(line.startswith(later) for line in lines[1:])


def test_failed_files_are_named_by_path_with_openais_reason(start_sandbox):
    openai = start_sandbox(file_processing_seconds=0.05).openai()
    store_id = store_with(openai, b"uno", b"")

    indexing = wait_for_indexing(openai, store_id, "roma", POLICY, IndexWait())

    assert indexing.failures == {
        "roma/f1.md": "invalid_file: The file could not be parsed because it is empty."
    }


def test_gives_up_at_the_timeout_without_a_word_when_no_one_listens(start_sandbox):
    sandbox = start_sandbox(file_processing_seconds=60)
    openai = sandbox.openai()
    store_id = store_with(openai, b"uno")
    started = time.monotonic()

    indexing = wait_for_indexing(openai, store_id, "roma", POLICY, IndexWait(timeout=0.4))

    assert 0.4 <= time.monotonic() - started < 2
    assert (indexing.status, indexing.in_progress) == ("in_progress", 1)
    polls = sandbox.requests()["by_route"]["GET /v1/vector_stores/{vector_store_id}"]
    assert polls <= 4  # 0.1 s, then 0.2 s, then the rest of the 0.4 s


def test_notice_names_failures_and_files_still_in_progress():
    indexing = Indexing(
        in_progress=1, total=3, failures={"roma/b.md": "invalid_file: empty", "roma/a.md": "x: y"}
    )

    assert indexing.notice() == (
        "OpenAI could not index roma/a.md (x: y); roma/b.md (invalid_file: empty). "
        "Horizon uploads a failed file again only when its content changes. "
        "OpenAI is still indexing 1 file of 3 (file search finds nothing in a file until it is "
        "indexed)."
    )
    assert Indexing(in_progress=0, total=3).notice() is None
