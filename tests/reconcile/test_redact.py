"""Secrets are masked wherever reconcile prints."""

from __future__ import annotations

from horizon.reconcile.redact import redact


def test_url_credentials_and_secret_query_values_are_masked():
    text = "https://bot:hunter2@bots.example.com/twilio/inbound?token=abc&lang=es"

    assert redact(text) == "https://***@bots.example.com/twilio/inbound?token=***&lang=es"


def test_known_secret_values_are_masked():
    assert redact("bad key sk-live-1 and sk-live-12", ["sk-live-1", "sk-live-12"]) == (
        "bad key *** and ***"
    )


def test_values_too_short_to_be_credentials_are_not_masked_everywhere():
    text = "ConnectionError: Failed to establish a new connection"

    assert redact(text, ["t", "key"]) == text
