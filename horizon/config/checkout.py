"""The git checkout around a clients directory: which files git tracks, and when a line was
written. Asked lazily, once per load: a fleet without knowledge files never runs git.

Outside a checkout git's rules do not apply. Inside one (a `.git` above the directory), a
git that cannot answer (not installed, a checkout it distrusts) is a problem to report,
never a reason to let every file through.
"""

from __future__ import annotations

import math
import os
import subprocess
from functools import cached_property
from pathlib import Path

GIT_TIMEOUT = 10.0
NOT_COMMITTED = "0" * 40  # git blame's commit for a line not committed yet


class Checkout:
    """What git knows of the files around `directory` (the clients directory)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()

    @cached_property
    def _listing(self) -> frozenset[str] | str | None:
        """Tracked files as resolved paths (strings), None outside a checkout, or why git failed.

        One `git ls-files` from the clients directory lists the whole checkout (`:/`), paths
        relative to that directory.
        """
        if self._git_dir() is None:
            return None
        try:
            done = _git(self.directory, "ls-files", "-z", "--", ":/")
        except OSError as exc:
            return f"cannot run git ({exc.strerror or type(exc).__name__})"
        except subprocess.TimeoutExpired:
            return f"git ls-files took more than {GIT_TIMEOUT:.0f} s"
        if done.returncode != 0:
            message = os.fsdecode(done.stderr).strip().splitlines()
            reason = message[0] if message else f"exit status {done.returncode}"
            return f"git ls-files failed: {reason.removeprefix('fatal: ')}"
        names = os.fsdecode(done.stdout).split("\0")
        return frozenset(os.path.normpath(self.directory / name) for name in names if name)

    def _git_dir(self) -> Path | None:
        for folder in (self.directory, *self.directory.parents):
            if (folder / ".git").exists():
                return folder / ".git"
        return None

    @property
    def in_git(self) -> bool:
        return self._listing is not None

    def untracked(self, path: str | Path) -> str | None:
        """Why `path` (resolved) is not a file git tracks, or None when it is (or no git)."""
        listing, path = self._listing, os.fspath(path)
        if listing is None:
            return None
        if isinstance(listing, str):
            return f"cannot be checked against git: {listing}"
        if path not in listing:
            return "is not a file git tracks (git add it, or remove it from the list)"
        return None

    def written_at(self, path: Path, line: int) -> float | None:
        """When line `line` of `path` was last written, by git's committer time.

        Infinity for a line not committed yet (an untracked file included: it is newest);
        None outside a checkout or when git cannot tell.
        """
        listing = self._listing
        if not isinstance(listing, frozenset):
            return None
        resolved = path.resolve()
        if str(resolved) not in listing:
            return math.inf
        try:
            done = _git(
                resolved.parent, "blame", "--porcelain", f"-L{line},{line}", "--", path.name
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        lines = os.fsdecode(done.stdout).splitlines()
        if done.returncode != 0 or not lines:
            return None
        if lines[0].split(" ", 1)[0] == NOT_COMMITTED:
            return math.inf
        for header in lines[1:]:
            if header.startswith("committer-time "):
                return float(header.split(" ", 1)[1])
        return None


def _git(directory: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["git", "-C", str(directory), *args],
        capture_output=True,
        timeout=GIT_TIMEOUT,
        check=False,
    )
