"""Talking to Twilio and OpenAI: SDK clients built from Settings, one error type, one retry policy.

Reconcile's providers and the webhook's worker both call the vendors through this package;
neither knows the other.
"""
