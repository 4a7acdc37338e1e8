"""A client's configuration as committed: its file's text at the commit the clients
directory is checked out at, for the panel to show with that commit.

Outside a git checkout there is no commit: the text is the file on disk. Inside one, the
text is git's (`git show <commit>:<file>`), and `changed` says the file on disk differs
from it (edited and not committed: not what a reconcile from git would apply).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from horizon.config.checkout import _git


@dataclass(frozen=True)
class CommittedFile:
    """A file's text as committed. `commit` is None outside git; `tracked` False when git
    does not hold the file (then `text` is the file on disk)."""

    path: str
    text: str
    commit: str | None
    tracked: bool
    changed: bool

    def as_json(self) -> dict:
        return {
            "path": self.path,
            "text": self.text,
            "commit": self.commit,
            "tracked": self.tracked,
            "changed": self.changed,
        }


def head_commit(directory: Path) -> str | None:
    """The git commit `directory` is checked out at, or None outside git."""
    try:
        done = _git(directory, "rev-parse", "HEAD")
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.decode().strip() or None if done.returncode == 0 else None


def committed_file(path: Path) -> CommittedFile:
    """`path`'s text at the commit its directory is checked out at (the disk's outside git)."""
    on_disk = path.read_text(encoding="utf-8") if path.is_file() else ""
    commit = head_commit(path.parent)
    if commit is None:
        return CommittedFile(str(path), on_disk, None, tracked=False, changed=False)
    try:  # `<rev>:./<name>` is relative to the directory git runs in
        done = _git(path.parent, "show", f"{commit}:./{path.name}")
    except (OSError, subprocess.SubprocessError):
        done = None
    if done is None or done.returncode != 0:
        return CommittedFile(str(path), on_disk, commit, tracked=False, changed=True)
    text = done.stdout.decode("utf-8", errors="replace")
    return CommittedFile(str(path), text, commit, tracked=True, changed=text != on_disk)
