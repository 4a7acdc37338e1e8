"""Fixtures for the webhook's tests: a clients directory, settings and signed form requests."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

AUTH_TOKEN = "test-auth-token"
PUBLIC_URL = "https://bots.example.com"

CLIENTS = {
    "pizzeria-roma": """\
name: Pizzería Roma
number: "+34910000101"
assistant:
  instructions: |
    Eres el asistente de Pizzería Roma.
    Responde breve.
  fallback_message: "Lo siento, ahora no puedo responder."
""",
    "farmacia-sol": """\
name: Farmacia Sol
number: "+34910000102"
assistant:
  instructions: |
    Eres el asistente de Farmacia Sol.
""",
    "bar-cerrado": """\
name: Bar Cerrado
number: "+34910000103"
enabled: false
assistant:
  instructions: Eres el asistente del Bar Cerrado.
  paused_message: "Estamos de vacaciones."
""",
    "tienda-limitada": """\
name: Tienda Limitada
number: "+34910000104"
assistant:
  instructions: Eres el asistente de la Tienda Limitada.
limits:
  user_messages_per_hour: 2
""",
}


def write_clients(directory: Path, clients: dict[str, str] = CLIENTS) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for client_id, text in clients.items():
        (directory / f"{client_id}.yaml").write_text(text, encoding="utf-8")
    return directory


@pytest.fixture
def clients_dir(tmp_path: Path) -> Path:
    return write_clients(tmp_path / "clients")


class Signer:
    """Builds form requests signed as Twilio signs them for `public_url`."""

    def __init__(self, auth_token: str = AUTH_TOKEN, public_url: str = PUBLIC_URL) -> None:
        self.validator = RequestValidator(auth_token)
        self.public_url = public_url

    def headers(self, path: str, params: dict[str, str]) -> dict[str, str]:
        return {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": self.validator.compute_signature(self.public_url + path, params),
        }

    def form(self, path: str, params: dict[str, str]) -> dict:
        """Keyword arguments for falcon.testing's simulate_post."""
        return {"body": urlencode(params), "headers": self.headers(path, params)}


@pytest.fixture
def signer() -> Signer:
    return Signer()
