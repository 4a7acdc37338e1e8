"""What happens to every vendor request before its responder: counting, auth, injected faults."""

from __future__ import annotations

import asyncio
import contextlib

import falcon

from horizon.sandbox.context import Sandbox
from horizon.sandbox.openai_api import OpenAIError, check_bearer
from horizon.sandbox.twilio_api import API_KEYS, TwilioError, check_basic_auth, not_found

CONTROL_PREFIX = "/__sandbox__"
DROP = "horizon.sandbox.drop"  # in a request's ASGI scope: close its connection unanswered


class DroppedConnection(Exception):
    """An injected fault: the connection closes before a complete answer is sent."""


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
            "The server is overloaded or not ready yet."
            if status == 503
            else "The server had an error while processing your request. Sorry about that!"
        )
        return OpenAIError(status, message, type="server_error", headers=headers)
    titles = {
        429: "Too Many Requests",
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }
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
        if status is None:
            return
        if faults.settings.phase == "after":
            req.context.lost_answer = status  # the request takes effect; its answer is lost
            return
        if faults.settings.drop:
            raise DroppedConnection
        raise injected_error(path, status, faults.settings.retry_after)

    async def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, succeeded: bool
    ) -> None:
        """Faults of phase "after": the request took effect, then its answer is late or lost."""
        path = req.path
        if is_control(path) or resource is None:
            return
        faults = self.sandbox.faults
        delay = faults.latency(path, "after")
        if delay:
            await asyncio.sleep(delay)
        status = getattr(req.context, "lost_answer", None)
        if status is None or not succeeded:
            return
        if faults.settings.drop:
            req.scope[DROP] = True
            return
        error = injected_error(path, status, faults.settings.retry_after)
        resp.status = falcon.code_to_http_status(error.status)
        resp.media = error.body()
        for name, value in error.headers.items():
            resp.set_header(name, value)

    def _authenticate(self, req: falcon.Request, params: dict) -> None:
        options = self.sandbox.options
        if is_openai(req.path):
            check_bearer(req.get_header("Authorization"), options.openai_key)
            return
        check_basic_auth(
            req.get_header("Authorization"), options.account_sid, options.auth_token, self._secret
        )
        if params.get("AccountSid", options.account_sid) != options.account_sid:
            raise not_found(req.path)

    def _secret(self, key_sid: str) -> str | None:
        key = self.sandbox.world.get(API_KEYS, key_sid)
        return key["_secret"] if key is not None else None

    async def process_shutdown(self, scope: dict, event: dict) -> None:
        await self.sandbox.delivery.close()


class ConnectionDropper:
    """The ASGI app around the sandbox's, closing a connection that a fault marked dropped.

    Its status line and headers go out, then the connection closes before the body: every
    HTTP client reads that as a broken connection, with no answer to go by.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive, send) -> None:
        async def guarded_send(message: dict) -> None:
            if scope.get(DROP) and message["type"] == "http.response.start":
                await send(message)
                raise DroppedConnection
            await send(message)

        # uvicorn closes a connection whose answer was started and never finished.
        with contextlib.suppress(DroppedConnection):
            await self.app(scope, receive, guarded_send)
