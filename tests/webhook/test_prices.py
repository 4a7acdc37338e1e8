"""The budget guard prices tokens with the table HORIZON_PRICES_FILE gives, as the figures do."""

from __future__ import annotations

from horizon.webhook.server import start_in_thread
from horizon.worker.reply_worker import WorkerOptions

from .conftest import write_clients
from .test_end_to_end import ANA, LUIS, eventually, replies

NUMBER = "+34910000107"
CLIENT = """\
name: Tienda Cara
number: "+34910000107"
assistant:
  model: gpt-5.4-mini
  instructions: Eres el asistente de Tienda Cara.
  monthly_budget_message: "Este mes ya no podemos responder más mensajes."
limits:
  monthly_budget_usd: 1
"""
# At these prices one short answer (a few dozen tokens) spends far more than $1; at the
# built-in ones ($0.75 per million input tokens) it spends a ten-thousandth of a cent.
DEAR = "name: Dear prices\nopenai:\n  gpt-5.4-mini: {input: 1000000, output: 1000000}\n"


def test_a_price_file_makes_the_budget_run_out_at_its_prices(sandbox, tmp_path):
    clients_dir = write_clients(tmp_path / "clients", {"tienda-cara": CLIENT})
    (tmp_path / "prices.yaml").write_text(DEAR, encoding="utf-8")
    settings = sandbox.settings(
        HORIZON_CLIENTS_DIR=str(clients_dir),
        HORIZON_DATABASE_URL=f"sqlite:///{tmp_path}/h.db",
        HORIZON_PRICES_FILE=str(tmp_path / "prices.yaml"),
    )
    running = start_in_thread(settings, options=WorkerOptions(coalesce_window=0))
    try:
        sandbox.add_senders([NUMBER], f"{running.url}/twilio/inbound")
        sandbox.inbound(ANA, NUMBER, "¿abrís hoy?")
        [answer] = eventually(lambda: replies(sandbox, ANA), what="the first answer")
        assert answer["body"].startswith("Eres el asistente de Tienda Cara.")
        sandbox.inbound(LUIS, NUMBER, "¿y mañana?")
        [notice] = eventually(lambda: replies(sandbox, LUIS), what="the second user's reply")
        assert notice["body"] == "Este mes ya no podemos responder más mensajes."
    finally:
        running.stop()
