"""Run `horizon` as a process with stderr on a pseudo-terminal, as a person would see it."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys


def environment(**extra: str) -> dict[str, str]:
    """This process's environment without CI (where bars are never drawn), plus `extra`."""
    env = {name: value for name, value in os.environ.items() if name != "CI"}
    return {**env, "TERM": "xterm-256color", "COLUMNS": "100", **extra}


def run_on_terminal(*args: str, env: dict[str, str], timeout: float = 60) -> tuple[int, str]:
    """Exit code and everything written to the terminal (stderr); stdout is a pipe."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "horizon", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    seen = bytearray()
    while True:
        ready, _, _ = select.select([leader], [], [], timeout)
        if not ready:
            process.kill()
            raise AssertionError(f"horizon {' '.join(args)} hung; terminal: {seen!r}")
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    process.stdout.read()
    return process.wait(timeout), seen.decode(errors="replace")


def run_piped(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "horizon", *args], capture_output=True, text=True, env=env
    )
