"""One apply at a time per account: an advisory lock file, held for the whole plan-and-apply.

The file is named by a digest of the account (never a credential) in the system's temp
directory, so every checkout on one machine shares it. The operating system drops the
lock when its holder exits, so a killed apply never leaves a stale lock behind. Across
machines (CI runners) the workflows' concurrency group does the same job.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class LockHeld(Exception):
    """Another apply against the same account is running; the message says which."""


def lock_path(account: str, directory: str | Path | None = None) -> Path:
    digest = hashlib.sha256(account.encode()).hexdigest()[:16]
    return Path(directory or tempfile.gettempdir()) / f"horizon-reconcile-{digest}.lock"


@contextmanager
def apply_lock(account: str, directory: str | Path | None = None) -> Iterator[Path]:
    """Hold the account's apply lock, or raise LockHeld at once if another process has it."""
    path = lock_path(account, directory)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(_held_message(path)) from None
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        os.ftruncate(descriptor, 0)
        os.write(descriptor, json.dumps(holder).encode())
        try:
            yield path
        finally:
            os.ftruncate(descriptor, 0)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _held_message(path: Path) -> str:
    try:
        holder = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        holder = {}
    who = ""
    if holder:
        since = time.strftime("%H:%M:%S", time.localtime(holder.get("since", 0)))
        who = f" (pid {holder.get('pid')} on {holder.get('host')}, since {since})"
    return (
        f"another reconcile is applying changes to this account{who}; "
        f"wait for it to finish, then run again (lock: {path})"
    )
