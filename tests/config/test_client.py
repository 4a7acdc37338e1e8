"""The texts a client's users receive: set in the client file, in the client's language."""

from __future__ import annotations

from pathlib import Path

import pytest

from horizon.config.client import HOURLY_LIMIT_MESSAGE, MONTHLY_BUDGET_MESSAGE
from horizon.config.loader import load_fleet

BASE = """\
name: Tienda Sol
number: "+34910000199"
assistant:
  instructions: Eres el asistente de Tienda Sol.
"""
TEXTS = """\
  hourly_limit_message: "Has escrito mucho en poco tiempo; vuelve a escribir en una hora."
  monthly_budget_message: "Este mes ya no podemos responder más mensajes."
  opt_out_message: "Hecho: no recibirás más mensajes. Escribe ALTA para volver."
  opt_in_message: "¡Bienvenido de nuevo!"
"""


def load(tmp_path: Path, assistant_lines: str):
    clients = tmp_path / "clients"
    clients.mkdir()
    (clients / "tienda-sol.yaml").write_text(BASE + assistant_lines, encoding="utf-8")
    return load_fleet(clients)


def test_every_text_a_user_receives_can_be_set_in_the_client_file(tmp_path):
    loaded = load(tmp_path, TEXTS)

    assert loaded.ok, loaded.errors
    assistant = loaded.fleet.by_id["tienda-sol"].assistant
    assert assistant.hourly_limit_message.startswith("Has escrito mucho")
    assert assistant.monthly_budget_message == "Este mes ya no podemos responder más mensajes."
    assert assistant.opt_out_message.endswith("Escribe ALTA para volver.")
    assert assistant.opt_in_message == "¡Bienvenido de nuevo!"


def test_unset_texts_keep_todays_defaults(tmp_path):
    assistant = load(tmp_path, "").fleet.by_id["tienda-sol"].assistant

    assert assistant.hourly_limit_message == HOURLY_LIMIT_MESSAGE
    assert assistant.monthly_budget_message == MONTHLY_BUDGET_MESSAGE
    assert (assistant.opt_out_message, assistant.opt_in_message) == (None, None)


@pytest.mark.parametrize(
    ("line", "field", "words"),
    [
        ('  opt_out_mesage: "Hecho."\n', "assistant.opt_out_mesage", "did you mean"),
        ('  opt_in_message: "   "\n', "assistant.opt_in_message", "at least 1 character"),
        ("  monthly_budget_message: 42\n", "assistant.monthly_budget_message", "string"),
        (f'  hourly_limit_message: "{"a" * 1601}"\n', "assistant.hourly_limit_message", "1600"),
    ],
    ids=["typo", "blank", "number", "too-long"],
)
def test_a_bad_text_is_reported_at_its_line(tmp_path, line, field, words):
    [error] = load(tmp_path, line).errors

    assert (error.line, error.path) == (5, field)
    assert words in error.message
