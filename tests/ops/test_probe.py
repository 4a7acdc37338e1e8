"""`horizon test` against a running webhook answering through the sandbox: the reply and its
latency, and exit 1 with the reason for each way it can fail."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from horizon.cli import main
from horizon.config.loader import load_fleet
from horizon.ops.probe import TEST_NUMBER, inbound_form
from horizon.sandbox.control import inbound_params
from horizon.store import Store
from tests.queries.running import env_for, start_webhook
from tests.webhook.conftest import write_clients


@pytest.fixture
def live(sandbox, tmp_path):
    """The webhook's environment, as an operator's shell on its server has it."""
    clients_dir = write_clients(tmp_path / "clients")
    url = f"sqlite:///{tmp_path}/h.db"
    running = start_webhook(sandbox, clients_dir, url)
    yield env_for(sandbox, running, clients_dir, url), running
    running.stop()


def probe(env: dict, *args: str):
    return CliRunner().invoke(main, ["test", *args], env=env)


def test_prints_the_assistants_reply_and_the_latency_the_webhook_recorded(live):
    env, running = live
    result = probe(env, "pizzeria-roma", "¿Abrís hoy?")
    assert result.exit_code == 0, result.output + result.stderr
    [asked] = running.webhook.store.store.find_messages(direction="inbound")
    assert (asked["user_number"], asked["channel"], asked["body"]) == (
        TEST_NUMBER,
        "whatsapp",
        "¿Abrís hoy?",
    )
    latency = asked["answered_at"] - asked["created_at"]
    lines = result.output.splitlines()
    assert lines[0] == (
        f"Sent {asked['sid']} to pizzeria-roma (+34910000101) from {TEST_NUMBER}: ¿Abrís hoy?"
    )
    assert lines[1].startswith(f"Reply (answer, 1 part) after {latency:.2f} s (stored → sent; ")
    assert re.fullmatch(
        r"  \[\w+( \d+)?\] Eres el asistente de Pizzería Roma\. \| You said: \"¿Abrís hoy\?\"",
        lines[2],
    )


def test_from_is_the_users_number_and_a_paused_client_gets_its_paused_message(live):
    env, running = live
    result = probe(env, "bar-cerrado", "hola", "--from", "+34 600 000 009")
    assert result.exit_code == 0, result.output + result.stderr
    assert "Reply (paused, 1 part)" in result.output and "Estamos de vacaciones." in result.output
    [asked] = running.webhook.store.store.find_messages(direction="inbound")
    assert asked["user_number"] == "+34600000009"


def test_the_form_has_the_fields_twilio_and_the_sandbox_post(live):
    client = load_fleet(live[0]["HORIZON_CLIENTS_DIR"]).fleet.by_id["pizzeria-roma"]
    form = inbound_form("AC" + "1" * 32, client, TEST_NUMBER, "hola", "SM" + "2" * 32)
    record = {
        "account_sid": "AC" + "1" * 32,
        "body": "hola",
        "from": f"whatsapp:{TEST_NUMBER}",
        "to": "whatsapp:+34910000101",
        "sid": "SM" + "2" * 32,
        "num_segments": "1",
    }
    assert form == inbound_params(record, "whatsapp", "Horizon test", [])


@pytest.mark.parametrize(
    ("args", "env", "reason"),
    [
        (
            ["pizeria-roma", "hola"],
            {},
            "unknown client 'pizeria-roma' (did you mean pizzeria-roma?)",
        ),
        (["pizzeria-roma", "hola"], {"TWILIO_AUTH_TOKEN": "wrong"}, "answered 403: invalid"),
        (["pizzeria-roma", "hola", "--url", "http://127.0.0.1:9"], {}, "cannot reach the webhook"),
        (["pizzeria-roma", "hola", "--from", "nadie"], {}, "--from: 'nadie' is not a phone"),
    ],
)
def test_failures_exit_1_with_the_reason_in_one_line(live, args, env, reason):
    result = probe({**live[0], **env}, *args)
    assert result.exit_code == 1
    assert reason in result.stderr and len(result.stderr.splitlines()) == 1


def test_no_reply_in_time_exits_1(sandbox, live):
    sandbox.faults(latency_ms=3000, paths=["/v1/responses"])
    result = probe(live[0], "pizzeria-roma", "hola", "--timeout", "0.5")
    assert result.exit_code == 1
    assert re.fullmatch(
        r"Error: no reply within 0\.5 s \(SM\w{32} is still queued\)\n", result.stderr
    )


def test_another_database_than_the_webhooks_is_named_as_the_cause(live, tmp_path):
    Store.open(f"sqlite:///{tmp_path}/other.db").close()
    env = {**live[0], "HORIZON_DATABASE_URL": f"sqlite:///{tmp_path}/other.db"}
    result = probe(env, "pizzeria-roma", "hola", "--timeout", "10")
    assert result.exit_code == 1
    assert "is not in HORIZON_DATABASE_URL" in result.stderr
