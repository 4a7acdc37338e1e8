"""`horizon logs` over what a running webhook stored: lines, JSON lines, filters, errors, and
`--follow` run as a process that sees a message arriving after it started."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest
from click.testing import CliRunner

from horizon.cli import main
from tests.queries.running import answered, env_for, start_webhook
from tests.webhook.conftest import write_clients

ANA, LUIS = "+34600000001", "+34600000002"
ROMA, SOL = "+34910000101", "+34910000102"


@pytest.fixture
def live(sandbox, tmp_path):
    """A webhook that answered Ana (Roma) and Luis (Sol); yields (env, running webhook)."""
    clients_dir = write_clients(tmp_path / "clients")
    url = f"sqlite:///{tmp_path}/h.db"
    running = start_webhook(sandbox, clients_dir, url)
    sandbox.inbound(ANA, ROMA, "¿Tenéis mesa?")
    answered(running, 1)
    sandbox.inbound(LUIS, SOL, "Necesito IBUPROFENO")
    answered(running, 2)
    yield env_for(sandbox, running, clients_dir, url), running
    running.stop()


def run(env: dict, *args: str):
    return CliRunner().invoke(main, ["logs", *args], env=env)


def test_piped_text_is_one_plain_line_per_message_in_time_order(live):
    env, running = live
    result = run(env)
    assert result.exit_code == 0, result.output
    assert "\x1b[" not in result.output
    rows = [line.split(None, 7) for line in result.output.splitlines()]
    stored = {m["id"]: m for m in running.webhook.store.store.find_messages()}
    asked = stored[1]
    latency = f"{asked['answered_at'] - asked['created_at']:.2f}s"
    assert [row[2:] for row in rows] == [
        ["pizzeria-roma", "+*******0001", "in", "answered", latency, "¿Tenéis mesa?"],
        [
            "pizzeria-roma",
            "+*******0001",
            "out",
            rows[1][5],
            latency,
            'Eres el asistente de Pizzería Roma. | You said: "¿Tenéis mesa?"',
        ],
        ["farmacia-sol", "+*******0002", "in", "answered", rows[2][6], "Necesito IBUPROFENO"],
        [
            "farmacia-sol",
            "+*******0002",
            "out",
            rows[3][5],
            rows[2][6],
            'Eres el asistente de Farmacia Sol. | You said: "Necesito IBUPROFENO"',
        ],
    ]


def test_json_output_is_one_object_per_line(live):
    env, _ = live
    result = run(env, "--output", "json", "--client", "farmacia-sol")
    assert result.exit_code == 0, result.output
    objects = [json.loads(line) for line in result.output.splitlines()]
    assert [(o["client"], o["user"], o["direction"]) for o in objects] == [
        ("farmacia-sol", "+*******0002", "inbound"),
        ("farmacia-sol", "+*******0002", "outbound"),
    ]
    assert objects[0]["text"] == "Necesito IBUPROFENO" and objects[0]["status"] == "answered"
    assert objects[0]["latency_s"] > 0 and objects[0]["time"].endswith("+00:00")


@pytest.mark.parametrize(
    ("args", "count"),
    [
        (["--user", "+34 600 000 001"], 2),
        (["--user", "0034600000002", "--client", "pizzeria-roma"], 0),
        (["--grep", "ibuprofeno"], 2),
        (["--since", "1h"], 4),
        (["-n", "1"], 1),
    ],
)
def test_filters(live, args, count):
    env, _ = live
    result = run(env, "--output", "json", *args)
    assert result.exit_code == 0, result.output
    assert len(result.output.splitlines()) == count


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "Error: --since: 'yesterday' is not a duration"),
        (["--user", "600 12"], "Error: --user: '600 12' is not a phone number"),
    ],
)
def test_bad_input_is_one_line(live, args, message):
    env, _ = live
    result = run(env, *args)
    assert result.exit_code == 1
    assert result.stderr.startswith(message) and len(result.stderr.splitlines()) == 1


def test_a_missing_database_file_is_refused_not_created(tmp_path):
    env = {"HORIZON_DATABASE_URL": f"sqlite:///{tmp_path}/elsewhere.db"}
    result = run(env)
    assert result.exit_code == 1
    assert "there is no database file" in result.stderr
    assert not (tmp_path / "elsewhere.db").exists()


def test_a_terminal_gets_colour(live):
    env, _ = live
    result = run({**env, "FORCE_COLOR": "1", "TTY_COMPATIBLE": "1"})
    assert "\x1b[" in result.output and "¿Tenéis mesa?" in result.output


def _reader(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put((time.monotonic(), line))


def test_follow_shows_a_message_arriving_after_it_started_and_stops_on_ctrl_c(sandbox, live):
    env, _ = live
    process = subprocess.Popen(
        [sys.executable, "-m", "horizon", "logs", "--follow", "--output", "json"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_reader, args=(process.stdout, lines), daemon=True).start()
    try:
        backlog = [json.loads(lines.get(timeout=30)[1]) for _ in range(4)]
        assert backlog[0]["text"] == "¿Tenéis mesa?"

        sandbox.inbound(LUIS, ROMA, "¿y para llevar?")
        arrived = [json.loads(lines.get(timeout=15)[1]) for _ in range(2)]
        assert [(m["direction"], m["client"], m["user"]) for m in arrived] == [
            ("inbound", "pizzeria-roma", "+*******0002"),
            ("outbound", "pizzeria-roma", "+*******0002"),
        ]
        assert arrived[0]["text"] == "¿y para llevar?"
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=15)
    assert process.returncode == 0
    assert errors == ""
