"""How one sandbox process is configured: credentials, persistence, timings and faults."""

from __future__ import annotations

from dataclasses import dataclass

from horizon.sandbox import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, SANDBOX_OPENAI_KEY


@dataclass(frozen=True)
class SandboxOptions:
    """Everything `horizon sandbox` takes as flags; the defaults suit tests and the demo."""

    account_sid: str = SANDBOX_ACCOUNT_SID
    auth_token: str = SANDBOX_AUTH_TOKEN
    openai_key: str = SANDBOX_OPENAI_KEY
    state_path: str | None = None
    numbers: tuple[str, ...] = ()
    latency_ms: float = 0.0
    fail_rate: float = 0.0
    fail_status: int = 500
    # A new WhatsApp sender reports CREATING for this long, then ONLINE (as Meta registration does).
    sender_online_after: float = 1.0
    # A file attached to a vector store reports in_progress for this long, then completed
    # (or failed): OpenAI indexes files in the background. Small, so the demo stays quick.
    file_processing_seconds: float = 0.2
    # Pause between an outbound message's status transitions (queued -> sent -> delivered).
    status_step: float = 0.05
    # Twilio gives a webhook 15 s to answer.
    webhook_timeout: float = 15.0
