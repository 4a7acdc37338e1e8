"""The Falcon ASGI webhook: Twilio's inbound and status callbacks, health, metrics, admin API."""
