"""Operations endpoints: liveness, readiness, Prometheus metrics, and the admin API."""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

import falcon
from falcon.asgi import Request, Response
from sqlalchemy.exc import SQLAlchemyError

from horizon.config.client import Client
from horizon.store.aio import AsyncStore
from horizon.telemetry.metrics import CONTENT_TYPE_LATEST, Metrics
from horizon.webhook.live_config import LiveConfig


class HealthResource:
    """GET /healthz: the process is up."""

    async def on_get(self, req: Request, resp: Response) -> None:
        resp.media = {"status": "ok"}


class ReadyResource:
    """GET /readyz: the config is loaded and the store answers."""

    def __init__(self, live_config: LiveConfig, store: AsyncStore) -> None:
        self.live_config, self.store = live_config, store

    async def on_get(self, req: Request, resp: Response) -> None:
        loaded = self.live_config.current
        try:
            await asyncio.wait_for(self.store.ping(), timeout=2.0)
            store_ok, problem = True, None
        except (SQLAlchemyError, TimeoutError) as error:
            store_ok, problem = False, f"store unreachable: {type(error).__name__}"
        ready = store_ok and len(loaded.fleet) > 0
        if not len(loaded.fleet):
            problem = problem or "no clients loaded"
        resp.status = falcon.HTTP_200 if ready else falcon.HTTP_503
        resp.media = {
            "status": "ready" if ready else "not ready",
            "clients": len(loaded.fleet),
            "commit": loaded.commit,
            "store": "ok" if store_ok else "unreachable",
            "problem": problem,
        }


class MetricsResource:
    """GET /metrics: Prometheus text exposition."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def on_get(self, req: Request, resp: Response) -> None:
        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = self.metrics.exposition()


class AdminAuth:
    """Bearer HORIZON_ADMIN_TOKEN for /api/*; without the setting the API stays closed."""

    def __init__(self, token: str | None) -> None:
        self.token = token

    def check(self, req: Request) -> None:
        if not self.token:
            raise falcon.HTTPForbidden(description="set HORIZON_ADMIN_TOKEN to use /api")
        scheme, _, given = (req.get_header("Authorization") or "").partition(" ")
        # compare_digest refuses str with non-ASCII characters, so bytes are compared: the
        # header's own bytes (ASGI hands them over decoded as latin-1) and the token's UTF-8.
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            _header_bytes(given.strip()), self.token.encode("utf-8")
        ):
            raise falcon.HTTPUnauthorized(
                description="a valid 'Authorization: Bearer <HORIZON_ADMIN_TOKEN>' is required",
                challenges=["Bearer"],
            )


async def admin_only(req: Request, resp: Response, resource: Any, params: dict) -> None:
    """A `falcon.before` hook: the resource's `auth` (an AdminAuth) must accept the request."""
    resource.auth.check(req)


def _header_bytes(value: str) -> bytes:
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:  # not from the wire (a test client, a proxy's re-encoding)
        return value.encode("utf-8")


def describe_client(client: Client) -> dict:
    """What /api/clients shows of a client: its routing and limits, not its prompt."""
    return {
        "id": client.id,
        "name": client.name,
        "number": client.number,
        "channel": client.channel,
        "enabled": client.enabled,
        "model": client.assistant.model,
        "knowledge": list(client.assistant.knowledge),
        "memory_days": client.assistant.memory_days,
        "limits": client.limits.model_dump(),
        "metadata": dict(client.metadata),
    }


class ClientsResource:
    """GET /api/clients: the loaded clients and the config's git commit."""

    def __init__(self, live_config: LiveConfig, auth: AdminAuth) -> None:
        self.live_config, self.auth = live_config, auth

    @falcon.before(admin_only)
    async def on_get(self, req: Request, resp: Response) -> None:
        loaded = self.live_config.current
        resp.media = {
            "commit": loaded.commit,
            "clients": [describe_client(client) for client in loaded.fleet],
        }


class ReloadResource:
    """POST /api/reload: re-read clients/, swap the live configuration only if it is valid."""

    def __init__(self, live_config: LiveConfig, auth: AdminAuth) -> None:
        self.live_config, self.auth = live_config, auth

    @falcon.before(admin_only)
    async def on_post(self, req: Request, resp: Response) -> None:
        if self.live_config.clients_dir is None:
            raise falcon.HTTPConflict(description="this webhook was not started from a directory")
        # counted (and recorded) by the live configuration
        errors = await asyncio.to_thread(self.live_config.reload, "api")
        loaded = self.live_config.current
        resp.status = falcon.HTTP_422 if errors else falcon.HTTP_200
        resp.media = {
            "applied": not errors,
            "errors": [str(error) for error in errors],
            "clients": len(loaded.fleet),
            "commit": loaded.commit,
        }
