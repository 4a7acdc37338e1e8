"""A real git checkout in tmp_path, for the rules that depend on what git tracks."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


class Repo:
    """A git checkout with a clients/ directory; commits at the times a test chooses."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.clients = root / "clients"
        self.clients.mkdir(parents=True)
        self.git("init", "--quiet", "--initial-branch=main")

    def git(self, *args: str, when: int | None = None) -> str:
        env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
        if when is not None:
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{when} +0000"
        identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
        done = subprocess.run(
            ["git", *identity, *args], cwd=self.root, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def write(self, path: str, text: str) -> Path:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def commit(self, *paths: str, when: int = 1_700_000_000) -> None:
        self.git("add", "--", *paths)
        self.git("commit", "--quiet", "-m", f"add {' '.join(paths)}", when=when)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")
