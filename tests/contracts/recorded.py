"""The vendor requests that the tests' sandboxes receive: each sandbox's recorder observer."""

from __future__ import annotations

import threading

from horizon.sandbox.recorder import RecordedRequest


class VendorRequests:
    """Every vendor request that the tests' sandboxes receive, in arrival order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RecordedRequest] = []

    def __call__(self, record: RecordedRequest) -> None:
        with self._lock:
            self._records.append(record)

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def since(self, start: int) -> list[RecordedRequest]:
        with self._lock:
            return self._records[start:]


VENDOR_REQUESTS = VendorRequests()
