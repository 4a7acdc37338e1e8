"""The panel's middleware: a session for everything but the login page, security headers on
every response, and POSTs only from the panel's own pages."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import falcon
from falcon.asgi import Request, Response

from horizon.panel.auth import SESSION_COOKIE, Sessions

# No inline script or style and no other origin: every script, style and image the pages
# use is a file the app serves. `data:` images are what Chart.js's legends may draw.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # frame-ancestors' predecessor, for older browsers
    "Cross-Origin-Opener-Policy": "same-origin",
}
# What answers without a session: the login page, its stylesheet and its icon.
PUBLIC_PATHS = frozenset({"/login", "/static/panel.css", "/static/favicon.svg"})
LOGIN_PATH = "/login"


def own_origin(req: Request) -> str:
    return f"{req.scheme}://{req.netloc}"


def safe_next(path: str | None) -> str:
    """Where to go after logging in: a path on this site only (never `//host` or a URL)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


class SecurityHeaders:
    """Every response, errors and redirects included, carries the headers above."""

    async def process_response(
        self, req: Request, resp: Response, resource: object, req_succeeded: bool
    ) -> None:
        resp.set_headers(SECURITY_HEADERS)
        if not req.path.startswith("/static/"):
            resp.set_header("Cache-Control", "no-store")  # figures and numbers stay off disk


class RequireSession:
    """No page, JSON or asset without a valid session, except PUBLIC_PATHS.

    Pages redirect (303) to the login page, remembering where they were going; the JSON
    API answers 401, which the pages' script turns into that same redirect.
    """

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    async def process_request(self, req: Request, resp: Response) -> None:
        if req.path in PUBLIC_PATHS:
            return
        if self.sessions.valid(req.cookies.get(SESSION_COOKIE)):
            return
        if req.path.startswith("/api/"):
            raise falcon.HTTPUnauthorized(
                title="Not logged in", description="log in at /login first"
            )
        target = req.path + (f"?{req.query_string}" if req.query_string else "")
        raise falcon.HTTPSeeOther(f"{LOGIN_PATH}?next={quote(target, safe='')}")


class SameOrigin:
    """A POST must come from the panel's own pages (CSRF, besides SameSite=Strict).

    An Origin naming a site is checked against the panel's own. Under the panel's
    `Referrer-Policy: no-referrer` browsers send `Origin: null` with every POST (the Fetch
    standard's "serializing a request origin"), so then Sec-Fetch-Site, which every current
    browser sends and no page can set, must say same-origin. A request with neither header
    is no browser's, so no third-party page can have made it.
    """

    def __init__(self, public_url: str | None) -> None:
        parts = urlsplit(public_url) if public_url else None
        self.public_origin = f"{parts.scheme}://{parts.netloc}" if parts else None

    async def process_request(self, req: Request, resp: Response) -> None:
        if req.method != "POST":
            return
        origin = req.get_header("Origin")
        site = req.get_header("Sec-Fetch-Site")
        if origin is not None and origin != "null":
            if origin not in (own_origin(req), self.public_origin):
                raise falcon.HTTPForbidden(description="cross-origin POST refused")
        elif site is not None:
            if site not in ("same-origin", "none"):
                raise falcon.HTTPForbidden(description="cross-site POST refused")
        elif origin == "null":
            raise falcon.HTTPForbidden(description="POST from an opaque origin refused")
