"""The providers reconcile drives, in one visible list: adding a resource kind is one line here."""

from __future__ import annotations

from horizon.providers.openai_indexing import Progress
from horizon.providers.openai_knowledge import OpenAIKnowledge
from horizon.providers.twilio_numbers import TwilioNumbers
from horizon.providers.twilio_senders import TwilioSenders
from horizon.reconcile.provider import Provider
from horizon.settings import Settings
from horizon.vendors.openai_sdk import openai_client
from horizon.vendors.retry import DEFAULT_POLICY, RetryPolicy
from horizon.vendors.twilio_sdk import twilio_client


def build_providers(
    settings: Settings, policy: RetryPolicy = DEFAULT_POLICY, progress: Progress | None = None
) -> list[Provider]:
    """Every provider, with SDK clients from `settings` (raises MissingSetting naming a variable).

    The SDKs' own retries are off: `policy` retries each call, so retries never multiply.
    `progress` hears what apply is waiting for (OpenAI indexing knowledge files).
    """
    public_url = settings.require("public_url", "to point senders at the webhook")
    twilio = twilio_client(settings, max_retries=0)
    openai = openai_client(settings, max_retries=0)
    return [
        TwilioSenders(twilio, public_url, policy),
        TwilioNumbers(twilio, public_url, policy),
        OpenAIKnowledge(openai, policy, progress=progress),
    ]


def account_identity(settings: Settings) -> str:
    """What names "the same account" for the apply lock: never a secret itself."""
    return "|".join(
        [
            settings.twilio_account_sid or "",
            settings.twilio_api_base or "https://api.twilio.com",
            settings.openai_base_url or "https://api.openai.com/v1",
        ]
    )
