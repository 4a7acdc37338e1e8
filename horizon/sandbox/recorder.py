"""A raw ASGI wrapper that hands each vendor API request to an observer, for contract tests.

The request is read whole, given to the observer before the app sees it, then replayed to the
app unchanged; the answer's status is filled in on the same record as the answer starts. The
control API (/__sandbox__/...) is not a vendor request and passes straight through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from horizon.sandbox.middleware import is_control

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Message, Receive, Send], Awaitable[None]]


@dataclass
class RecordedRequest:
    """One vendor request as it arrived; `status` is set once the answer starts (None: never)."""

    method: str
    path: str
    query: str
    content_type: str
    body: bytes
    status: int | None = None


Observer = Callable[[RecordedRequest], None]


class RequestRecorder:
    """Tees every vendor request of the wrapped ASGI app to `observer`."""

    def __init__(self, app: App, observer: Observer) -> None:
        self.app = app
        self.observer = observer

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_control(scope["path"]):
            await self.app(scope, receive, send)
            return
        body, early = await _read_body(receive)
        record = RecordedRequest(
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            content_type=_header(scope, b"content-type"),
            body=body,
        )
        self.observer(record)
        # The body as one message; a disconnect that cut it short follows, as it came.
        pending = [{"type": "http.request", "body": body, "more_body": early is not None}]
        if early is not None:
            pending.append(early)

        async def replay() -> Message:
            if pending:
                return pending.pop(0)
            return await receive()

        async def observe_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            await send(message)

        await self.app(scope, replay, observe_status)


async def _read_body(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole request body; or what was read and the disconnect that cut it short."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _header(scope: Message, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""
