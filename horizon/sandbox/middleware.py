"""What happens to every vendor request before its responder: counting, auth, injected faults."""

from __future__ import annotations

import asyncio

import falcon

from horizon.sandbox.context import Sandbox
from horizon.sandbox.openai_api import OpenAIError, check_bearer
from horizon.sandbox.twilio_api import TwilioError, check_basic_auth, not_found

CONTROL_PREFIX = "/__sandbox__"


def is_openai(path: str) -> bool:
    return path == "/v1" or path.startswith("/v1/")


def is_control(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


def injected_error(path: str, status: int, retry_after: float) -> Exception:
    """An injected failure, in the body format and headers of the vendor behind `path`."""
    seconds = str(int(retry_after))
    if is_openai(path):
        headers = {"retry-after": seconds, "retry-after-ms": str(int(retry_after * 1000))}
        if status == 429:
            return OpenAIError(
                429,
                f"Rate limit reached for requests. Please try again in {retry_after:g}s.",
                type="requests",
                code="rate_limit_exceeded",
                headers=headers,
            )
        message = (
            "The server had an error while processing your request. Sorry about that!"
            if status == 500
            else "The server is overloaded or not ready yet."
        )
        return OpenAIError(status, message, type="server_error", headers=headers)
    titles = {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
    return TwilioError(status, 20000 + status, titles[status], headers={"Retry-After": seconds})


class VendorGate:
    """Falcon middleware in front of every Twilio and OpenAI route (the control API is exempt)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: object, params: dict
    ) -> None:
        path = req.path
        if is_control(path):
            return
        self.sandbox.requests.record(f"{req.method} {req.uri_template or path}")
        self._authenticate(req, params)
        faults = self.sandbox.faults
        # Resources that model work (a model generating) spend the latency themselves.
        if not getattr(resource, "simulates_work", False):
            delay = faults.latency(path)
            if delay:
                await asyncio.sleep(delay)
        status = faults.failure(path)
        if status is not None:
            raise injected_error(path, status, faults.settings.retry_after)

    def _authenticate(self, req: falcon.Request, params: dict) -> None:
        options = self.sandbox.options
        if is_openai(req.path):
            check_bearer(req.get_header("Authorization"), options.openai_key)
            return
        check_basic_auth(req.get_header("Authorization"), options.account_sid, options.auth_token)
        if params.get("AccountSid", options.account_sid) != options.account_sid:
            raise not_found(req.path)

    async def process_shutdown(self, scope: dict, event: dict) -> None:
        await self.sandbox.delivery.close()
