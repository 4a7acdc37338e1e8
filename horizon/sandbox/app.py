"""Assembly of the sandbox's Falcon ASGI app: every route, the middleware, the error handlers."""

from __future__ import annotations

import logging

import falcon
import falcon.asgi

from horizon.sandbox import (
    control,
    openai_conversations,
    openai_files,
    openai_models,
    openai_responses,
    twilio_messages,
    twilio_numbers,
    twilio_senders,
)
from horizon.sandbox import openai_vector_stores as vector_stores
from horizon.sandbox.context import Sandbox
from horizon.sandbox.middleware import DROP, DroppedConnection, VendorGate, is_control, is_openai
from horizon.sandbox.openai_api import OpenAIError
from horizon.sandbox.twilio_api import TwilioError, not_found

log = logging.getLogger(__name__)

ACCOUNT = "/2010-04-01/Accounts/{AccountSid}"


def create_app(sandbox: Sandbox) -> falcon.asgi.App:
    app = falcon.asgi.App(middleware=[VendorGate(sandbox)])
    app.req_options.strip_url_path_trailing_slash = True
    _add_twilio_routes(app, sandbox)
    _add_openai_routes(app, sandbox)
    _add_control_routes(app, sandbox)
    app.add_error_handler(Exception, _unexpected_error)
    app.add_error_handler(falcon.HTTPError, _http_error)
    app.add_error_handler(TwilioError, _vendor_error)
    app.add_error_handler(OpenAIError, _vendor_error)
    app.add_error_handler(DroppedConnection, _dropped)
    return app


def _add_twilio_routes(app: falcon.asgi.App, sandbox: Sandbox) -> None:
    routes = {
        f"{ACCOUNT}/IncomingPhoneNumbers.json": twilio_numbers.IncomingPhoneNumbers,
        f"{ACCOUNT}/IncomingPhoneNumbers/{{Sid}}.json": twilio_numbers.IncomingPhoneNumber,
        f"{ACCOUNT}/Messages.json": twilio_messages.Messages,
        f"{ACCOUNT}/Messages/{{Sid}}.json": twilio_messages.Message,
        "/v2/Channels/Senders": twilio_senders.Senders,
        "/v2/Channels/Senders/{Sid}": twilio_senders.Sender,
        "/v2/Indicators/Typing.json": twilio_messages.TypingIndicator,
    }
    for template, resource in routes.items():
        app.add_route(template, resource(sandbox))


def _add_openai_routes(app: falcon.asgi.App, sandbox: Sandbox) -> None:
    routes = {
        "/v1/files": openai_files.Files,
        "/v1/files/{file_id}": openai_files.File,
        "/v1/files/{file_id}/content": openai_files.FileContent,
        "/v1/vector_stores": vector_stores.VectorStores,
        "/v1/vector_stores/{vector_store_id}": vector_stores.VectorStore,
        "/v1/vector_stores/{vector_store_id}/files": vector_stores.VectorStoreFiles,
        "/v1/vector_stores/{vector_store_id}/files/{file_id}": vector_stores.VectorStoreFile,
        "/v1/conversations": openai_conversations.Conversations,
        "/v1/conversations/{conversation_id}": openai_conversations.Conversation,
        "/v1/conversations/{conversation_id}/items": openai_conversations.ConversationItems,
        "/v1/conversations/{conversation_id}/items/{item_id}": (
            openai_conversations.ConversationItem
        ),
        "/v1/models": openai_models.Models,
        "/v1/models/{model}": openai_models.Model,
        "/v1/responses": openai_responses.Responses,
        "/v1/responses/{response_id}": openai_responses.Response,
    }
    for template, resource in routes.items():
        app.add_route(template, resource(sandbox))


def _add_control_routes(app: falcon.asgi.App, sandbox: Sandbox) -> None:
    routes = {
        "inbound": control.Inbound,
        "messages": control.SentMessages,
        "requests": control.Requests,
        "faults": control.FaultControl,
        "numbers": control.NumberControl,
        "keys": control.ApiKeys,
        "senders/{sid}/display_name": control.DisplayNameReview,
        "reset": control.Reset,
        "health": control.Health,
    }
    for name, resource in routes.items():
        app.add_route(f"{control.PREFIX}/{name}", resource(sandbox))


def _respond(resp: falcon.Response, status: int, body: dict, headers: dict[str, str]) -> None:
    resp.status = falcon.code_to_http_status(status)
    resp.media = body
    for name, value in headers.items():
        resp.set_header(name, value)


async def _vendor_error(req, resp, error: TwilioError | OpenAIError, params) -> None:
    _respond(resp, error.status, error.body(), error.headers)


async def _dropped(req, resp, error: DroppedConnection, params) -> None:
    """An injected dropped connection: `ConnectionDropper` closes it before the answer."""
    req.scope[DROP] = True
    resp.status = falcon.HTTP_500
    resp.text = "never sent"  # a promised body the client waits for in vain


async def _http_error(req, resp, error: falcon.HTTPError, params) -> None:
    """Falcon's own errors (no such route, wrong method, bad body) in the vendor's format."""
    status = error.status_code
    if is_control(req.path):
        body = {"error": error.description or error.title}
        _respond(resp, status, body, {})
    elif is_openai(req.path):
        message = error.description or error.title
        if status in (404, 405):
            message = f"Invalid URL ({req.method} {req.path})"
        _respond(resp, status, OpenAIError(status, message).body(), {})
    elif status == 404:
        _respond(resp, 404, not_found(req.path).body(), {})
    else:
        twilio_error = TwilioError(status, 20000 + status, error.description or error.title)
        _respond(resp, status, twilio_error.body(), {})


async def _unexpected_error(req, resp, error: Exception, params) -> None:
    log.exception("sandbox error on %s %s", req.method, req.path)
    if is_openai(req.path):
        body = OpenAIError(500, "The server had an error processing your request.", "server_error")
        _respond(resp, 500, body.body(), {})
    else:
        _respond(resp, 500, TwilioError(500, 20500, "Internal Server Error").body(), {})
