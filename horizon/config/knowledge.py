"""Where a knowledge file may come from: a plain file of the repository that git tracks.

Reconcile uploads knowledge files to OpenAI, where file_search serves them to anyone who
writes to the number. So a path that reaches beyond what a reviewer sees in a pull
request is refused: a symbolic link anywhere along it (`faq.txt -> ../../.env`), a hidden
file or folder (`.env`, `.git/`), a path outside the repository, and, inside a git
checkout, a file git does not track.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from horizon.config.checkout import Checkout


def knowledge_file(
    name: str, base_dir: str | Path, repo_root: str | Path, checkout: Checkout | None = None
) -> str:
    """The file `name` (relative to `base_dir`) stands for; ValueError says why it cannot be.

    The path is followed one step at a time from the client file's (resolved) folder, so no
    step can go through a link: the path as written is the file that is read.
    """
    if os.path.isabs(name):
        raise ValueError(f"{name!r} must be a path relative to the client file")
    current = os.path.realpath(base_dir)
    parts = [part for part in name.split("/") if part not in ("", ".")]
    exists = bool(parts)  # a `..` after a missing folder is folded here; the system would fail
    for index, part in enumerate(parts):
        current = os.path.dirname(current) if part == ".." else os.path.join(current, part)
        try:
            mode = os.lstat(current).st_mode
        except OSError:
            exists = False
            continue
        if stat.S_ISLNK(mode):
            raise ValueError(
                f"{name!r} goes through a symbolic link ({part}); "
                "knowledge files must be plain files of the repository"
            )
        last = index == len(parts) - 1
        exists = exists and (stat.S_ISREG(mode) if last else stat.S_ISDIR(mode))
    root = os.fspath(repo_root)  # resolved; plain strings keep a fleet's check cheap
    if not current.startswith(root.rstrip(os.sep) + os.sep):
        raise ValueError(f"{name!r} points outside the repository")
    inside = current[len(root.rstrip(os.sep)) + 1 :].split(os.sep)
    if ".git" in inside:
        raise ValueError(f"{name!r} is inside .git/, git's own files")
    hidden = next((part for part in inside if part.startswith(".")), None)
    if hidden is not None:
        raise ValueError(
            f"{name!r} is hidden ({hidden} starts with '.'); hidden files such as .env "
            "are never knowledge"
        )
    if not exists:
        raise ValueError(f"{name!r} does not exist (looked for {current})")
    problem = checkout.untracked(current) if checkout is not None else None
    if problem:
        raise ValueError(f"{name!r} {problem}")
    return current
