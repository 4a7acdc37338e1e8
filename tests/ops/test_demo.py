"""`horizon demo` runs end to end on a fresh checkout and leaves nothing running."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).parent.parent.parent
CLIENT_NAMES = ("Farmacia Sol", "Harbor Hardware", "Pizzería Roma")


def horizon(*args: str, cwd: Path, sigint_ignored: bool = False) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "OPENAI_"))}
    # A background job of a non-interactive shell inherits SIGINT ignored; or the default.
    disposition = signal.SIG_IGN if sigint_ignored else signal.SIG_DFL
    return subprocess.Popen(
        [sys.executable, "-m", "horizon", *args],
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, disposition),
    )


def communicate_or_dump(process: subprocess.Popen, timeout: float) -> tuple[str, str]:
    """communicate(), or on timeout fail with every thread's stack (SIGUSR1, faulthandler)."""
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGUSR1)
        time.sleep(1.0)
        process.kill()
        _, err = process.communicate()
        raise AssertionError(
            f"still running {timeout} s after the signal:\n{err[-8000:]}"
        ) from None


def ports_in(output: str) -> list[int]:
    return [int(port) for port in re.findall(r"on http://127\.0\.0\.1:(\d+)", output)]


def accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def checkout(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "clients", tmp_path / "clients")
    return tmp_path


def test_demo_plans_applies_and_every_client_answers(tmp_path: Path) -> None:
    process = horizon("demo", cwd=checkout(tmp_path))
    out, err = process.communicate(timeout=60)

    assert process.returncode == 0, err
    assert "Plan: 4 to create, 0 to update, 0 to delete." in out
    assert "Apply complete: 4 applied, 0 failed" in out
    for name in CLIENT_NAMES:
        reply = re.search(rf"^  {re.escape(name)} → \+34600000001 \(\d+\.\d s\): (.+)$", out, re.M)
        assert reply, f"no reply from {name}:\n{out}"
        assert "Hi! Are you open today?" in reply.group(1)
    assert "Pizzería Roma → " in out and "menu.md" in out.split("Pizzería Roma → ")[1]
    assert "Every client answered" in out
    assert "Traceback" not in err
    assert ports_in(out) and not any(accepts(port) for port in ports_in(out))


@pytest.mark.parametrize(
    ("stop", "sigint_ignored"),
    [(signal.SIGINT, False), (signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["ctrl-c", "ctrl-c-inherited-ignored", "sigterm"],
)
def test_keep_running_serves_until_ctrl_c_then_stops_everything(
    tmp_path: Path, stop: signal.Signals, sigint_ignored: bool
) -> None:
    process = horizon(
        "demo", "--keep-running", cwd=checkout(tmp_path), sigint_ignored=sigint_ignored
    )
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if "Press Ctrl-C" in line or not line:
            break
    output = "".join(lines)
    ports = ports_in(output)
    assert "Press Ctrl-C" in output, output
    assert ports and all(accepts(port) for port in ports)
    panel = re.search(
        r"^Panel on (http://127\.0\.0\.1:\d+)/  \(log in with the token (\S+)\)$", output, re.M
    )
    assert panel, output
    with httpx.Client(base_url=panel.group(1), timeout=10, trust_env=False) as http:
        assert http.post("/login", data={"token": panel.group(2)}).status_code == 303
        fleet = http.get("/api/fleet").json()
    assert {row["name"] for row in fleet["clients"]} == set(CLIENT_NAMES)

    process.send_signal(stop)
    _, err = communicate_or_dump(process, timeout=20)

    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert not any(accepts(port) for port in ports)


def test_demo_with_broken_client_files_says_why_in_one_place(tmp_path: Path) -> None:
    root = checkout(tmp_path)
    (root / "clients" / "broken.yaml").write_text("name: Broken\n")

    process = horizon("demo", cwd=root)
    out, err = process.communicate(timeout=30)

    assert process.returncode == 1
    assert "clients/broken.yaml:1:1: number: required field is missing" in err
    assert "Traceback" not in err and "Sandbox" not in out
