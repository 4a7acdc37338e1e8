"""The panel's security: nothing but the login page without a session, the session cookie's
flags, rate-limited logins, same-origin POSTs, and a Content-Security-Policy that every page
keeps (no inline script or style anywhere)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlencode

import falcon.inspect
import pytest

from horizon.panel.auth import SESSION_COOKIE
from horizon.panel.guard import CONTENT_SECURITY_POLICY, PUBLIC_PATHS
from tests.panel import world

traffic, panel = world.traffic, world.panel  # the fixtures

SAMPLE = {"client_id": "pizzeria-roma", "key": "1", "name": "panel.js"}
PAGES = [
    "/",
    "/clients/pizzeria-roma",
    "/conversations",
    "/conversations/pizzeria-roma/1",
    "/system",
]


def every_route(app) -> list[tuple[str, str]]:
    """(method, path with sample values) for each responder the app has: a route added
    later without the session check fails the tests that walk this list."""
    found = []
    for route in falcon.inspect.inspect_routes(app):
        path = re.sub(r"{(\w+)(:\w+)?}", lambda m: SAMPLE[m.group(1)], route.path)
        for method in route.methods:
            if method.internal or method.method not in ("GET", "POST"):
                continue
            found.append((method.method, path))
    return found


def test_every_route_but_the_login_page_needs_a_session(traffic):
    client, store = world.app_client(traffic)
    routes = every_route(client.app)
    assert len(routes) >= 15 and ("GET", "/api/fleet") in routes
    for method, path in routes:
        result = client.simulate_request(method, path, cookies={SESSION_COOKIE: "forged"})
        if path in PUBLIC_PATHS:  # the form, and a POST without the token refused
            assert result.status_code == (200 if method == "GET" else 401), (method, path)
        elif path.startswith("/api/"):
            assert result.status_code == 401, (method, path, result.status)
            assert result.json["title"] == "Not logged in"
        else:
            assert result.status_code == 303, (method, path, result.status)
            assert result.headers["Location"].startswith("/login?next=")
        if path not in PUBLIC_PATHS:
            assert "Pizzería" not in result.text, (method, path)
    store.close()


def test_the_vendored_chart_library_is_not_served_without_a_session(traffic):
    client, store = world.app_client(traffic)
    result = client.simulate_get("/static/vendor/chart.umd.min.js")
    assert result.status_code == 303
    assert client.simulate_get("/static/panel.css").status_code == 200
    store.close()


def test_a_page_asked_for_before_logging_in_is_where_the_login_leads(traffic):
    client, store = world.app_client(traffic)
    away = client.simulate_get("/clients/pizzeria-roma", query_string="x=1")
    assert away.headers["Location"] == "/login?next=%2Fclients%2Fpizzeria-roma%3Fx%3D1"
    form = client.simulate_get("/login", query_string="next=/clients/pizzeria-roma")
    assert 'name="next" value="/clients/pizzeria-roma"' in form.text
    assert 'id="token" name="token"' in form.text
    store.close()


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "\\\\evil"])
def test_the_login_never_leads_off_the_site(traffic, target):
    client, store = world.app_client(traffic)
    result = client.simulate_post(
        "/login",
        body=urlencode({"token": world.TOKEN, "next": target}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert result.status_code == 303 and result.headers["Location"] == "/"
    store.close()


def test_the_session_cookie_is_httponly_strict_and_site_wide(traffic):
    client, store = world.app_client(traffic)
    result = world.log_in(client)
    cookie = result.cookies[SESSION_COOKIE]
    assert cookie.http_only and cookie.same_site == "Strict" and cookie.path == "/"
    assert not cookie.secure  # plain http on loopback: a Secure cookie would never come back
    assert len(cookie.value) >= 40
    assert result.headers["Location"] == "/"
    store.close()


def test_the_session_cookie_is_secure_behind_https(traffic):
    client, store = world.app_client(traffic, HORIZON_PUBLIC_URL="https://panel.example.com")
    assert world.log_in(client).cookies[SESSION_COOKIE].secure
    store.close()
    client, store = world.app_client(traffic)
    assert world.log_in(client, protocol="https").cookies[SESSION_COOKIE].secure
    store.close()


def test_a_wrong_token_opens_no_session(traffic):
    client, store = world.app_client(traffic)
    result = world.log_in(client, token="panel-test-token-Ω!")
    assert result.status_code == 401
    assert SESSION_COOKIE not in result.cookies
    assert "That is not the admin token." in result.text
    store.close()


def test_logins_are_rate_limited_per_address(traffic, caplog):
    client, store = world.app_client(traffic)
    for _ in range(5):
        assert world.log_in(client, token="guess", remote_addr="10.0.0.7").status_code == 401
    limited = world.log_in(client, remote_addr="10.0.0.7")  # even the right token, now
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert SESSION_COOKIE not in limited.cookies
    assert world.log_in(client, remote_addr="10.0.0.8").status_code == 303
    events = [record.horizon for record in caplog.records if hasattr(record, "horizon")]
    assert [e["address"] for e in events if e["event"] == "panel_login_failed"] == ["10.0.0.7"] * 5
    throttled = [e for e in events if e["event"] == "panel_login_throttled"]
    assert throttled and throttled[0]["address"] == "10.0.0.7" and throttled[0]["wait"] >= 1
    store.close()


def test_logging_out_ends_the_session(panel):
    assert panel.get("/").status_code == 200
    out = panel.client.simulate_post("/logout", cookies=panel.cookies)
    assert out.status_code == 303 and out.headers["Location"] == "/login"
    assert out.cookies[SESSION_COOKIE].value == ""
    assert panel.get("/").status_code == 303
    assert panel.get("/api/fleet").status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "same-origin"},
        {"Origin": "null"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_a_post_from_another_site_is_refused(panel, headers):
    for path in ("/logout", "/drift/refresh", "/login"):
        result = panel.client.simulate_post(path, cookies=panel.cookies, headers=headers)
        assert result.status_code == 403, path
    assert panel.get("/").status_code == 200  # the session survived the forged logout


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://falconframework.org", "Sec-Fetch-Site": "same-origin"},
        # What Chromium sends under Referrer-Policy: no-referrer.
        {"Origin": "null", "Sec-Fetch-Site": "same-origin"},
        {},  # curl
    ],
)
def test_a_post_from_the_panel_itself_is_accepted(panel, headers):
    result = panel.client.simulate_post("/logout", cookies=panel.cookies, headers=headers)
    assert result.status_code == 303 and panel.get("/").status_code == 303


class InlineFinder(HTMLParser):
    """Whatever a Content-Security-Policy without 'unsafe-inline' would block."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "style":
            self.found.append("<style>")
        if tag == "script":
            self.in_script = True
            if not names.get("src", "").startswith("/static/"):
                self.found.append(f"<script> without a /static/ src: {attrs}")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"{tag} {name}={value!r}")
            if value and value.strip().lower().startswith("javascript:"):
                self.found.append(f"{tag} {name}={value!r}")
            if name in ("src", "href", "action") and value and re.match(r"(https?:)?//", value):
                self.found.append(f"another origin: {tag} {name}={value!r}")

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False

    def handle_data(self, data):
        if self.in_script and data.strip():
            self.found.append(f"inline script: {data[:40]!r}")


def test_every_page_keeps_the_content_security_policy(panel, traffic):
    first = panel.get("/api/conversations").json["conversations"][0]
    pages = [*PAGES[:3], f"/conversations/{first['client']}/{first['key']}", "/system"]
    client, store = world.app_client(traffic)
    pages_and_login = [(panel.client, panel.cookies, page) for page in pages]
    pages_and_login.append((client, {}, "/login"))
    for app, cookies, page in pages_and_login:
        result = app.simulate_get(page, cookies=cookies)
        assert result.status_code == 200, page
        assert result.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert result.headers["X-Content-Type-Options"] == "nosniff"
        assert result.headers["Referrer-Policy"] == "no-referrer"
        assert result.headers["Cache-Control"] == "no-store"
        finder = InlineFinder()
        finder.feed(result.text)
        assert finder.found == [], page
    store.close()


def test_errors_and_redirects_carry_the_security_headers_too(panel, traffic):
    client, store = world.app_client(traffic)
    for result in (
        client.simulate_get("/"),
        client.simulate_get("/api/fleet"),
        panel.get("/clients/nobody"),
        panel.get("/static/nothing.js"),
    ):
        assert result.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    store.close()


def test_the_csp_script_files_hold_no_eval(panel):
    for name in ("panel.js", "charts.js"):
        text = panel.get(f"/static/{name}").text
        assert "eval(" not in text and "innerHTML" not in text and "new Function" not in text
