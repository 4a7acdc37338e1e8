"""`horizon sandbox` as a user runs it: prints the environment, serves, stops cleanly on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import openai
from click.testing import CliRunner

from horizon.cli import main
from horizon.sandbox.server import bind


@contextmanager
def sandbox_process(
    *args: str, sigint: signal.Handlers = signal.SIG_DFL
) -> Iterator[tuple[subprocess.Popen, dict[str, str]]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "horizon", "sandbox", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, sigint),  # what it inherits
    )
    env: dict[str, str] = {}
    try:
        for line in process.stdout:
            if line.strip().startswith("export "):
                name, _, value = line.strip().removeprefix("export ").partition("=")
                env[name] = value
            if line.startswith("Press Ctrl-C"):
                break
        yield process, env
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def stop(process: subprocess.Popen) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    try:
        out, _ = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:  # show where it is stuck (faulthandler on SIGUSR1)
        process.send_signal(signal.SIGUSR1)
        time.sleep(1.0)
        process.kill()
        _, err = process.communicate()
        raise AssertionError(f"still running 10 s after Ctrl-C:\n{err[-8000:]}") from None
    return process.returncode, out


def test_prints_the_environment_and_exits_cleanly_on_ctrl_c():
    with sandbox_process("--numbers", "+14155550100") as (process, env):
        assert set(env) == {
            "TWILIO_API_BASE", "OPENAI_BASE_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN",
            "OPENAI_API_KEY",
        }  # fmt: skip
        assert env["OPENAI_BASE_URL"] == env["TWILIO_API_BASE"] + "/v1"
        numbers = httpx.get(
            f"{env['TWILIO_API_BASE']}/2010-04-01/Accounts/{env['TWILIO_ACCOUNT_SID']}"
            "/IncomingPhoneNumbers.json",
            auth=(env["TWILIO_ACCOUNT_SID"], env["TWILIO_AUTH_TOKEN"]),
        ).json()["incoming_phone_numbers"]
        assert [n["phone_number"] for n in numbers] == ["+14155550100"]

        returncode, out = stop(process)

    assert returncode == 0
    assert "Sandbox stopped." in out


def test_state_file_keeps_the_world_across_runs(tmp_path):
    state = str(tmp_path / "sandbox.db")
    with sandbox_process("--state", state) as (process, env):
        base = env["TWILIO_API_BASE"]
        httpx.post(f"{base}/__sandbox__/numbers", json={"numbers": ["+14155550123"]})
        stop(process)

    with sandbox_process("--state", state) as (process, env):
        numbers = httpx.get(
            f"{env['TWILIO_API_BASE']}/2010-04-01/Accounts/{env['TWILIO_ACCOUNT_SID']}"
            "/IncomingPhoneNumbers.json",
            auth=(env["TWILIO_ACCOUNT_SID"], env["TWILIO_AUTH_TOKEN"]),
        ).json()["incoming_phone_numbers"]
        stop(process)

    assert [n["phone_number"] for n in numbers] == ["+14155550123"]


def test_credentials_can_be_chosen():
    sid = "AC" + "ab" * 16
    with sandbox_process("--account-sid", sid, "--auth-token", "t", "--openai-key", "k") as (
        process,
        env,
    ):
        stop(process)
    assert (env["TWILIO_ACCOUNT_SID"], env["TWILIO_AUTH_TOKEN"], env["OPENAI_API_KEY"]) == (
        sid, "t", "k",
    )  # fmt: skip


def test_bad_flags_are_usage_errors():
    runner = CliRunner()
    assert runner.invoke(main, ["sandbox", "--numbers", "555-0100"]).exit_code == 2
    assert runner.invoke(main, ["sandbox", "--account-sid", "AC123"]).exit_code == 2
    assert runner.invoke(main, ["sandbox", "--fail-rate", "2"]).exit_code == 2


def test_busy_port_is_a_one_line_error(tmp_path):
    taken = bind("127.0.0.1", 0)
    taken.listen()
    port = taken.getsockname()[1]
    try:
        result = CliRunner().invoke(main, ["sandbox", "--port", str(port)])
    finally:
        taken.close()
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


def test_missing_state_directory_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(main, ["sandbox", "--state", str(tmp_path / "no" / "x.db")])
    assert result.exit_code == 1
    assert "does not exist" in result.output


def test_file_processing_seconds_sets_how_long_a_file_is_in_progress():
    with sandbox_process("--file-processing-seconds", "60") as (process, env):
        client = openai.OpenAI(
            api_key=env["OPENAI_API_KEY"], base_url=env["OPENAI_BASE_URL"], max_retries=0
        )
        menu = client.files.create(file=("menu.md", b"# Carta"), purpose="assistants")
        store = client.vector_stores.create(name="shop", file_ids=[menu.id])
        stop(process)

    assert (store.status, store.file_counts.in_progress) == ("in_progress", 1)
    assert CliRunner().invoke(main, ["sandbox", "--file-processing-seconds", "-1"]).exit_code == 2


def test_ctrl_c_stops_it_even_when_it_inherited_sigint_ignored():
    # A background job of a non-interactive shell (CI, nohup) starts with SIGINT ignored.
    with sandbox_process(sigint=signal.SIG_IGN) as (process, _):
        code, out = stop(process)

    assert code == 0 and "Sandbox stopped." in out
