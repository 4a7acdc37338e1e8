"""`horizon stats`, `horizon clients` and `horizon usage` over traffic the test sends.

A webhook (on SQLite, then PostgreSQL) answers known messages through the sandbox; the
figures the commands print are checked against what the sandbox saw (replies, token usage
of each response), the times the store recorded, and the built-in price table.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from horizon.cli import main
from horizon.config.prices import DEFAULT_PRICES
from horizon.queries.window import month_of
from horizon.store.schema import turns
from horizon.webhook.server import start_in_thread
from horizon.worker.reply_worker import WorkerOptions
from tests.webhook.conftest import CLIENTS, write_clients
from tests.webhook.test_end_to_end import all_handled, eventually, wait_for_replies

ANA, LUIS = "+34600000001", "+34600000002"
ROMA, SOL, CERRADO, CORTA = "+34910000101", "+34910000102", "+34910000103", "+34910000105"
MODEL_LATENCY = 0.2  # seconds the sandbox takes over every Responses request
# A client whose replies never fit: each is cut short, and the user gets the fallback.
CORTA_FILE = """\
name: Tienda Corta
number: "+34910000105"
assistant:
  instructions: Eres el asistente de la Tienda Corta, que contesta con frases muy largas.
  max_output_tokens: 16
  fallback_message: "Perdona, no puedo responder ahora."
"""
FLEET = {*CLIENTS, "tienda-corta"}


@pytest.fixture
def traffic(sandbox, database_url, tmp_path):
    """A webhook that answered: two users of Roma, one of Sol who then opts out, one paused
    message to Cerrado, and one to Corta whose reply is cut short (the fallback)."""
    clients_dir = write_clients(tmp_path / "clients", {**CLIENTS, "tienda-corta": CORTA_FILE})
    env = {**sandbox.env(), "HORIZON_CLIENTS_DIR": str(clients_dir)}
    env["HORIZON_DATABASE_URL"] = database_url
    running = start_in_thread(sandbox.settings(**env), options=WorkerOptions(coalesce_window=0.1))
    try:
        sandbox.add_senders([ROMA, SOL, CERRADO, CORTA], f"{running.url}/twilio/inbound")
        sandbox.faults(latency_ms=MODEL_LATENCY * 1000, paths=["/v1/responses"])
        sent = 0
        for user, number, text in [
            (ANA, ROMA, "uno"),
            (LUIS, ROMA, "dos"),
            (ANA, ROMA, "tres"),
            (ANA, SOL, "hola sol"),
            (ANA, SOL, "STOP"),
            (ANA, CERRADO, "¿abrís?"),
            (LUIS, CORTA, "¿tenéis pilas?"),
        ]:
            sandbox.inbound(user, number, text)
            sent += 1
            wait_for_replies(sandbox, sent)
        eventually(lambda: all_handled(running, sent), what="every message handled")
        sandbox.faults(latency_ms=0)
        yield running, env
    finally:
        running.stop()


def run(env: dict, *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output + result.stderr
    return result.stdout


def nearest_rank(values: list[float], percent: int) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(len(ordered) * percent / 100) - 1]


def sandbox_usage(sandbox, store, client_id: str) -> tuple[str, int, int]:
    """The model and the tokens the sandbox reported for the client's turns."""
    query = select(turns.c.response_id).where(
        turns.c.client_id == client_id, turns.c.response_id.is_not(None)
    )
    with store.engine.connect() as connection:
        ids = list(connection.execute(query).scalars())
    responses = [sandbox.openai().responses.retrieve(rid) for rid in ids]
    assert responses, "the client's turns called the model"
    [model] = {response.model for response in responses}
    return (
        model,
        sum(r.usage.input_tokens for r in responses),
        sum(r.usage.output_tokens for r in responses),
    )


def test_stats_give_the_traffics_counts_latencies_tokens_and_costs(sandbox, traffic):
    running, env = traffic
    store = running.webhook.store.store
    document = json.loads(run(env, "stats", "--since", "1h", "--output", "json"))
    assert document["estimate"] is True
    assert document["price_table"] == DEFAULT_PRICES.name
    rows = {row["client"]: row for row in document["clients"]}
    assert set(rows) == FLEET

    roma = rows["pizzeria-roma"]
    replies_to_roma = [m for m in sandbox.messages(direction="outbound-api") if ROMA in m["from"]]
    assert (roma["inbound"], roma["outbound"], roma["users"]) == (3, len(replies_to_roma), 2)
    assert (roma["turns"], roma["turns_by_kind"]) == (3, {"answer": 3})
    assert (roma["failed"], roma["fallbacks"], roma["opt_outs"]) == (0, 0, 0)
    stored = [
        m["answered_at"] - m["created_at"]
        for m in store.find_messages(direction="inbound", client_id="pizzeria-roma")
    ]
    for percent in (50, 95, 99):
        assert roma[f"latency_p{percent}_s"] == pytest.approx(nearest_rank(stored, percent))
    assert roma["latency_p50_s"] >= MODEL_LATENCY  # every reply waited for the model
    model, input_tokens, output_tokens = sandbox_usage(sandbox, store, "pizzeria-roma")
    assert (roma["input_tokens"], roma["output_tokens"]) == (input_tokens, output_tokens)
    price = DEFAULT_PRICES.model(model)
    openai_usd = (input_tokens * price.input + output_tokens * price.output) / 1e6
    twilio_usd = (3 + len(replies_to_roma)) * 0.005  # Twilio's WhatsApp fee, both ways
    assert roma["openai_usd"] == pytest.approx(openai_usd, abs=1e-6)
    assert roma["cost_usd"] == pytest.approx(openai_usd + twilio_usd, abs=1e-6)
    assert roma["budget_used"] == pytest.approx(openai_usd / 50)

    sol = rows["farmacia-sol"]
    assert (sol["inbound"], sol["users"], sol["opt_outs"]) == (2, 1, 1)
    assert sol["turns_by_kind"] == {"answer": 1, "opt_out": 1}
    corta = rows["tienda-corta"]
    assert (corta["turns_by_kind"], corta["failed"], corta["fallbacks"]) == ({"fallback": 1}, 1, 1)
    assert corta["output_tokens"] == sandbox_usage(sandbox, store, "tienda-corta")[2] > 0
    cerrado = rows["bar-cerrado"]
    assert (cerrado["turns_by_kind"], cerrado["input_tokens"], cerrado["openai_usd"]) == (
        {"paused": 1},
        0,
        0,
    )
    assert rows["tienda-limitada"]["inbound"] == 0

    [only] = json.loads(run(env, "stats", "--client", "pizzeria-roma", "-o", "json"))["clients"]
    assert only == roma
    table = run(env, "stats", "--month", month_of(time.time()))
    assert "pizzeria-roma" in table and f"'{DEFAULT_PRICES.name}'" in table


def test_clients_list_sender_status_volume_and_cost_to_date(sandbox, traffic):
    running, env = traffic
    store = running.webhook.store.store
    rows = {r["client"]: r for r in json.loads(run(env, "clients", "-o", "json"))["clients"]}
    roma = rows["pizzeria-roma"]
    assert (roma["number"], roma["channel"], roma["enabled"]) == (ROMA, "whatsapp", True)
    assert rows["bar-cerrado"]["enabled"] is False
    # The sandbox lists the senders the test added, ONLINE at once; none for Limitada.
    statuses = {client: row["sender_status"] for client, row in rows.items()}
    assert statuses == {
        "pizzeria-roma": "ONLINE",
        "farmacia-sol": "ONLINE",
        "bar-cerrado": "ONLINE",
        "tienda-corta": "ONLINE",
        "tienda-limitada": "MISSING",
    }
    assert sandbox.requests()["by_route"]["GET /v2/Channels/Senders"] == 1  # one listing
    messages = store.find_messages(client_id="pizzeria-roma")
    assert roma["messages_24h"] == len(messages)
    assert roma["last_message_at"] == pytest.approx(max(m["created_at"] for m in messages))
    stats = json.loads(run(env, "stats", "--month", month_of(time.time()), "-o", "json"))
    [roma_month] = [row for row in stats["clients"] if row["client"] == "pizzeria-roma"]
    assert roma["cost_usd"] == pytest.approx(roma_month["cost_usd"])
    assert rows["tienda-limitada"]["last_message_at"] is None

    offline = json.loads(run(env, "clients", "--offline", "-o", "json"))["clients"]
    assert {row["sender_status"] for row in offline} == {None}
    assert sandbox.requests()["by_route"]["GET /v2/Channels/Senders"] == 1  # not asked again


def test_usage_csv_is_the_months_ledger(sandbox, traffic):
    running, env = traffic
    month = month_of(time.time())
    ledger = list(csv.DictReader(io.StringIO(run(env, "usage", "--month", month, "-o", "csv"))))
    rows = {row["client"]: row for row in ledger}
    assert set(rows) == FLEET
    model, input_tokens, output_tokens = sandbox_usage(
        sandbox, running.webhook.store.store, "pizzeria-roma"
    )
    roma = rows["pizzeria-roma"]
    assert (roma["month"], roma["models"]) == (month, model)
    assert (int(roma["input_tokens"]), int(roma["output_tokens"])) == (input_tokens, output_tokens)
    openai_usd = DEFAULT_PRICES.tokens(model, input_tokens, output_tokens)
    assert float(roma["openai_usd"]) == pytest.approx(openai_usd, abs=1e-6)
    assert float(roma["total_usd"]) == pytest.approx(
        openai_usd + float(roma["twilio_usd"]), abs=1e-6
    )
    assert roma["price_table"] == DEFAULT_PRICES.name
    assert float(rows["tienda-limitada"]["total_usd"]) == 0
    # A user's price file: every figure cites it and prices with it.
    override = str(Path(__file__).parent.parent / "data" / "prices" / "override.yaml")
    priced = run({**env, "HORIZON_PRICES_FILE": override}, "usage", "--month", month, "-o", "csv")
    [roma] = [
        row for row in csv.DictReader(io.StringIO(priced)) if row["client"] == "pizzeria-roma"
    ]
    assert roma["price_table"] == "Agency prices of 2026-12-01"
    assert float(roma["twilio_usd"]) == pytest.approx(int(roma["outbound"]) * 0.01)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["stats", "--client", "nadie"], 1, "no client 'nadie'"),
        (["stats", "--since", "30x"], 2, "'30x' is not a duration"),
        (["stats", "--since", "1d", "--month", "2026-11"], 2, "--since or --month, not both"),
        (["usage", "--month", "2026-13"], 2, "'2026-13' is not a month"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path, args, code, message):
    env = {"HORIZON_DATABASE_URL": f"sqlite:///{tmp_path}/h.db"}
    env["HORIZON_CLIENTS_DIR"] = str(write_clients(tmp_path / "clients"))
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == code
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_database_it_cannot_open_is_one_line_naming_the_setting(tmp_path):
    (tmp_path / "file").write_text("")
    env = {"HORIZON_DATABASE_URL": f"sqlite:///{tmp_path}/file/h.db"}
    env["HORIZON_CLIENTS_DIR"] = str(write_clients(tmp_path / "clients"))
    for command in (["stats"], ["clients", "--offline"], ["usage", "--month", "2026-11"]):
        result = CliRunner().invoke(main, command, env=env)
        assert result.exit_code == 1
        [line] = result.stderr.strip().splitlines()
        assert line.startswith("Error: HORIZON_DATABASE_URL (sqlite:///")
