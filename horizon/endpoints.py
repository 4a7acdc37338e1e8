"""The webhook's paths that Twilio calls, and their URLs under the public base URL.

Reconcile points senders and numbers at them, the worker asks for delivery statuses at
one of them, and the webhook serves both: one definition for all of them.
"""

from __future__ import annotations

INBOUND_PATH = "/twilio/inbound"
STATUS_PATH = "/twilio/status"


def inbound_url(public_url: str) -> str:
    """Where Twilio posts a client's inbound messages."""
    return public_url.rstrip("/") + INBOUND_PATH


def status_url(public_url: str) -> str:
    """Where Twilio posts the delivery statuses of the replies Horizon sends."""
    return public_url.rstrip("/") + STATUS_PATH
