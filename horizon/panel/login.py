"""The login page (the admin token in, a session cookie out) and logging out."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import falcon
from falcon.asgi import Request, Response

from horizon.panel.auth import SESSION_COOKIE, SESSION_TTL_S, LoginThrottle, Sessions, token_matches
from horizon.panel.guard import LOGIN_PATH, safe_next
from horizon.panel.render import Renderer
from horizon.telemetry.logs import log_event


class LoginResource:
    """GET /login: the form; POST /login: check the token, open a session, go on."""

    def __init__(
        self,
        token: str,
        sessions: Sessions,
        throttle: LoginThrottle,
        renderer: Renderer,
        public_url: str | None,
    ) -> None:
        self.token, self.sessions, self.throttle = token, sessions, throttle
        self.renderer = renderer
        self.https_public = bool(public_url) and urlsplit(public_url).scheme == "https"

    async def on_get(self, req: Request, resp: Response) -> None:
        self._form(resp, req.get_param("next"), error=None)

    async def on_post(self, req: Request, resp: Response) -> None:
        address = req.remote_addr or "unknown"
        wait = self.throttle.retry_after(address)
        if wait is not None:
            log_event("panel_login_throttled", level=logging.WARNING, address=address, wait=wait)
            resp.status = falcon.HTTP_429
            resp.set_header("Retry-After", str(wait))
            self._form(resp, None, error=f"Too many attempts; try again in {wait} s.", code=429)
            return
        form = await req.get_media(default_when_empty={})
        given = form.get("token") if isinstance(form, dict) else None
        target = safe_next(form.get("next") if isinstance(form, dict) else None)
        if not isinstance(given, str) or not token_matches(given, self.token):
            self.throttle.failed(address)
            log_event("panel_login_failed", level=logging.WARNING, address=address)
            self._form(resp, target, error="That is not the admin token.", code=401)
            return
        log_event("panel_login", address=address)
        resp.set_cookie(
            SESSION_COOKIE,
            self.sessions.open(),
            max_age=int(SESSION_TTL_S),
            path="/",
            secure=req.scheme == "https" or self.https_public,
            http_only=True,
            same_site="Strict",
        )
        raise falcon.HTTPSeeOther(target)

    def _form(self, resp: Response, target: str | None, error: str | None, code: int = 200) -> None:
        resp.status = code
        resp.content_type = falcon.MEDIA_HTML
        resp.text = self.renderer.page(
            "login.html", {"next": safe_next(target), "error": error}, title="Log in"
        )


class LogoutResource:
    """POST /logout: end the session and forget the cookie."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    async def on_post(self, req: Request, resp: Response) -> None:
        self.sessions.close(req.cookies.get(SESSION_COOKIE))
        # An empty cookie that expires at once, with the login cookie's attributes.
        # (`unset_cookie` spells SameSite `samesite` before Falcon 4.1, `same_site` after.)
        resp.set_cookie(SESSION_COOKIE, "", max_age=0, path="/", http_only=True, same_site="Strict")
        raise falcon.HTTPSeeOther(LOGIN_PATH)
