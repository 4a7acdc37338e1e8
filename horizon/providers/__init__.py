"""The Twilio and OpenAI resources reconcile manages, each behind the provider protocol."""

from horizon.providers.registry import account_identity, build_providers

__all__ = ["account_identity", "build_providers"]
