"""The operator panel's Falcon ASGI app, wired in one place: middleware, routes, errors.

Read-only over the webhook's store: the only POSTs log in, log out and ask for a drift
check. Every page has a JSON twin under /api/ that the page polls every 15 s.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import falcon
import falcon.asgi
from falcon.asgi import Request, Response

from horizon.config.prices import load_prices
from horizon.panel.auth import LoginThrottle, Sessions
from horizon.panel.fleet_source import FleetSource
from horizon.panel.guard import RequireSession, SameOrigin, SecurityHeaders
from horizon.panel.login import LoginResource, LogoutResource
from horizon.panel.render import Renderer, StaticResource
from horizon.panel.views import SEARCH_FIELDS, NotFound, Views
from horizon.settings import Settings
from horizon.store.store import Store

if TYPE_CHECKING:  # the checker runs beside the app; only its type is needed here
    from horizon.ops.drift import DriftChecker

REFRESH_S = 15


class Page:
    """A page (GET → HTML) and its JSON twin, both from one view function."""

    def __init__(
        self,
        renderer: Renderer,
        path: str,
        api: str,
        template: str,
        nav: str,
        view: Callable[..., dict[str, Any]],
        title: str | Callable[[dict[str, Any]], str],
        *,
        refresh_now: bool = False,
        search: bool = False,
    ) -> None:
        self.renderer, self.path, self.api = renderer, path, api
        self.template, self.nav, self.view, self.title = template, nav, view, title
        self.refresh_now = refresh_now
        self.search = search  # the view takes the query string's search fields

    async def values(self, req: Request, params: dict[str, str]) -> dict[str, Any]:
        arguments = dict(params)
        if self.search:
            arguments = {"search": {name: req.get_param(name) or "" for name in SEARCH_FIELDS}}
        try:
            return await asyncio.to_thread(self.view, **arguments)
        except NotFound as error:
            raise falcon.HTTPNotFound(description=str(error)) from None

    async def on_get(self, req: Request, resp: Response, **params: str) -> None:
        values = await self.values(req, params)
        resp.content_type = falcon.MEDIA_HTML
        values["refresh"] = self.api.format(**params)
        values["refresh_now"] = self.refresh_now
        title = self.title if isinstance(self.title, str) else self.title(values)
        resp.text = self.renderer.page(self.template, values, title=title, nav=self.nav)


class Api:
    """GET /api/...: the JSON a page polls."""

    def __init__(self, page: Page) -> None:
        self.page = page

    async def on_get(self, req: Request, resp: Response, **params: str) -> None:
        resp.media = await self.page.values(req, params)


class DriftRefresh:
    """POST /drift/refresh: start a drift check in the background, go back to the fleet."""

    def __init__(self, drift: DriftChecker | None) -> None:
        self.drift = drift
        self.running = threading.Lock()

    async def on_post(self, req: Request, resp: Response) -> None:
        if self.drift is None:
            raise falcon.HTTPConflict(description="drift checks are off in this panel")
        if self.running.acquire(blocking=False):  # one check at a time; more clicks wait on it
            threading.Thread(target=self._check, name="horizon-drift-refresh", daemon=True).start()
        if req.path.startswith("/api/"):
            resp.status = falcon.HTTP_202
            resp.media = {"refreshing": True}
            return
        raise falcon.HTTPSeeOther("/")

    def _check(self) -> None:
        try:
            self.drift.refresh()  # type: ignore[union-attr]
        finally:
            self.running.release()


def create_app(
    settings: Settings, store: Store, clients_dir: Path, drift: DriftChecker | None
) -> falcon.asgi.App:
    """The panel over `store` and the client files in `clients_dir`.

    `drift` runs the background drift checks (None: the pages say checks are off); its
    start and stop are the caller's. HORIZON_ADMIN_TOKEN is required here: callers that
    allow a panel without one (loopback) make one up first.
    """
    token = settings.require("admin_token", "to log in to the panel")
    renderer = Renderer()
    views = Views(store, FleetSource(Path(clients_dir)), load_prices(settings.prices_file), drift)
    sessions = Sessions()
    app = falcon.asgi.App(
        middleware=[SecurityHeaders(), SameOrigin(settings.public_url), RequireSession(sessions)]
    )
    login = LoginResource(token, sessions, LoginThrottle(), renderer, settings.public_url)
    app.add_route("/login", login)
    app.add_route("/logout", LogoutResource(sessions))
    app.add_route("/static/{name:path}", StaticResource())
    refresher = DriftRefresh(drift)
    app.add_route("/drift/refresh", refresher)
    app.add_route("/api/drift/refresh", refresher)
    for page in _pages(renderer, views):
        app.add_route(page.path, page)
        app.add_route(page.api, Api(page))
    app.set_error_serializer(_error_page(renderer))
    return app


def _error_page(renderer: Renderer) -> Callable[[Request, Response, falcon.HTTPError], None]:
    """Errors as a page for the pages, as JSON for /api/ (Falcon's own serialisation)."""

    def serialize(req: Request, resp: Response, error: falcon.HTTPError) -> None:
        if req.path.startswith("/api/"):
            resp.content_type = falcon.MEDIA_JSON
            resp.text = error.to_json().decode("utf-8")
            return
        resp.content_type = falcon.MEDIA_HTML
        values = {"description": error.description or ""}
        # No menu or script: an error may answer someone not logged in.
        resp.text = renderer.page("error.html", values, title=error.title or "Error")

    return serialize


def _pages(renderer: Renderer, views: Views) -> list[Page]:
    """Every page: its path, its JSON twin's path, template, menu entry, view and title."""
    page = functools.partial(Page, renderer)
    return [
        page("/", "/api/fleet", "fleet.html", "fleet", views.fleet_page, "Fleet"),
        page(
            "/clients/{client_id}",
            "/api/clients/{client_id}",
            "client.html",
            "fleet",
            views.client_page,
            lambda values: values["client"]["name"],
            refresh_now=True,  # the charts are drawn from the JSON, fetched at once
        ),
        page(
            "/conversations",
            "/api/conversations",
            "conversations.html",
            "conversations",
            views.conversations_page,
            "Conversations",
            search=True,
        ),
        page(
            "/conversations/{client_id}/{key}",
            "/api/conversations/{client_id}/{key}",
            "thread.html",
            "conversations",
            views.thread_page,
            lambda values: f"{values['client']['name']} · {values['user']}",
        ),
        page("/system", "/api/system", "system.html", "system", views.system_page, "System"),
    ]
