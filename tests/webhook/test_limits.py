"""Limits and fixed texts end to end: the budget as every replica sees it, and notices that
say which limit was reached, in the client's own words."""

from __future__ import annotations

import time

import pytest

from horizon.webhook.server import start_in_thread
from horizon.worker.limits import estimated_cost
from horizon.worker.reply_worker import WorkerOptions

from .conftest import write_clients
from .test_end_to_end import ANA, eventually, replies
from .test_replicas import deliver

TIENDA = "+34910000105"
TIENDA_CLIENT = """\
name: Tienda Sol
number: "+34910000105"
assistant:
  instructions: Eres el asistente de Tienda Sol.
  monthly_budget_message: "Este mes ya no podemos responder más mensajes."
  hourly_limit_message: "Has escrito mucho en poco tiempo; vuelve en una hora."
  opt_out_message: "Hecho: no recibirás más mensajes."
  opt_in_message: "¡Bienvenido de nuevo!"
limits:
  user_messages_per_hour: {per_hour}
  monthly_budget_usd: {budget:.12f}
"""
USERS = ["+34640000001", "+34640000002", "+34640000003"]


def model_calls(sandbox) -> int:
    return sandbox.requests()["by_route"].get("POST /v1/responses", 0)


@pytest.fixture
def tienda(sandbox, tmp_path):
    """`tienda(database_url, replicas=1, per_hour=30, budget=50)`: webhooks serving Tienda Sol."""
    started = []
    clients_dir = tmp_path / "clients"

    def start(database_url: str | None = None, replicas: int = 1, **limits):
        write(**limits)
        settings = sandbox.settings(
            HORIZON_CLIENTS_DIR=str(clients_dir),
            HORIZON_DATABASE_URL=database_url or f"sqlite:///{tmp_path}/h.db",
        )
        options = WorkerOptions(coalesce_window=0)
        started.extend(start_in_thread(settings, options=options) for _ in range(replicas))
        sandbox.add_senders([TIENDA], f"{started[0].url}/twilio/inbound")
        return started

    def write(per_hour: int = 30, budget: float = 50.0) -> None:
        text = TIENDA_CLIENT.format(per_hour=per_hour, budget=budget)
        write_clients(clients_dir, {"tienda-sol": text})

    start.write = write
    yield start
    for running in started:
        running.stop()


def test_a_message_2_s_after_the_budget_ran_out_gets_the_budget_notice_on_another_replica(
    sandbox, database_url, tienda
):
    first, second = tienda(database_url, replicas=2)
    store = first.webhook.store.store

    def answered(count: int) -> bool:
        statuses = [m["status"] for m in store.find_messages(direction="inbound")]
        return statuses == ["answered"] * count

    # The second replica answers first: had it kept the month's spend (nothing yet), it
    # would not see what the first replica spends next.
    deliver(sandbox.auth_token, second, USERS[0], TIENDA, "¿abrís hoy?", "SM" + "1" * 32)
    eventually(lambda: answered(1), what="the first message answered")
    one_answer = estimated_cost(store.users.monthly_usage("tienda-sol", time.time()))
    tienda.write(budget=one_answer * 1.5)  # room for one more answer like it, not two
    for replica in (first, second):
        assert replica.webhook.live_config.reload() == []

    deliver(sandbox.auth_token, first, USERS[1], TIENDA, "¿abrís hoy?", "SM" + "2" * 32)
    eventually(lambda: answered(2), what="the second message answered: the budget ran out")
    time.sleep(2)
    deliver(sandbox.auth_token, second, USERS[2], TIENDA, "¿abrís hoy?", "SM" + "3" * 32)

    [notice] = eventually(lambda: replies(sandbox, USERS[2]), what="the third user's reply")
    assert notice["body"] == "Este mes ya no podemos responder más mensajes."
    assert model_calls(sandbox) == 2
    limited = store.find_messages(direction="inbound", sid="SM" + "3" * 32)
    assert [(m["status"], m["error"]) for m in limited] == [("limited", "over monthly_budget_usd")]


def test_the_notice_names_the_limit_reached_with_the_clients_default_texts(
    sandbox, tmp_path, clients_dir
):
    budget = 'name: Sin Saldo\nnumber: "+34910000106"\nassistant:\n  instructions: Hola.\n'
    write_clients(clients_dir, {"sin-saldo": budget + "limits:\n  monthly_budget_usd: 0\n"})
    settings = sandbox.settings(
        HORIZON_CLIENTS_DIR=str(clients_dir), HORIZON_DATABASE_URL=f"sqlite:///{tmp_path}/h.db"
    )
    with start_in_thread(settings, options=WorkerOptions(coalesce_window=0)) as webhook:
        sandbox.add_senders(["+34910000106"], f"{webhook.url}/twilio/inbound")
        sandbox.inbound(ANA, "+34910000106", "hola")
        [notice] = eventually(lambda: replies(sandbox, ANA), what="the notice")

    assert "límite de respuestas de este mes" in notice["body"]
    assert "this month" in notice["body"] and "muchos mensajes" not in notice["body"]
    assert model_calls(sandbox) == 0


def test_opt_out_opt_in_and_the_hourly_notice_are_the_clients_own_texts(sandbox, tienda):
    tienda(per_hour=3)  # the fourth message in an hour is one too many
    for n, text in enumerate(["STOP", "START", "hola", "¿seguís ahí?"]):
        sandbox.inbound(ANA, TIENDA, text)
        eventually(lambda n=n: len(replies(sandbox, ANA)) > n, what=f"the reply to {text!r}")

    bodies = [reply["body"] for reply in replies(sandbox, ANA)]
    assert bodies[:2] == ["Hecho: no recibirás más mensajes.", "¡Bienvenido de nuevo!"]
    assert "hola" in bodies[2]
    assert bodies[3] == "Has escrito mucho en poco tiempo; vuelve en una hora."
    assert model_calls(sandbox) == 1
