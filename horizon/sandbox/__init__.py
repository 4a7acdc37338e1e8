"""A local emulator of the Twilio and OpenAI REST APIs that Horizon uses, for demos and tests.

The unmodified `twilio` and `openai` SDKs talk to it over HTTP once `TWILIO_API_BASE` and
`OPENAI_BASE_URL` point at it. The credentials below are its defaults; they are public on
purpose, since the sandbox holds nothing worth protecting.
"""

SANDBOX_ACCOUNT_SID = "ACa11ce5baa11ce5baa11ce5baa11ce5ba"
SANDBOX_AUTH_TOKEN = "sandbox-auth-token-not-a-secret"
SANDBOX_OPENAI_KEY = "sk-sandbox-not-a-secret"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
