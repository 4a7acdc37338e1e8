"""Who gets what in a real Chromium and over plain HTTP: nothing but the login page without
the session cookie; every page clean of console errors and CSP violations with it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from horizon.panel.auth import SESSION_COOKIE
from tests.panel.conftest import PanelWorld, watch

PAGES = ["/", "/clients/pizzeria-roma", "/conversations?client=harbor-hardware", "/system"]
API = ["/api/fleet", "/api/clients/pizzeria-roma", "/api/conversations", "/api/system"]
ASSETS = ["/static/panel.js", "/static/charts.js", "/static/vendor/chart.umd.min.js"]


@pytest.fixture(scope="module")
def thread_path(panel_world: PanelWorld) -> str:
    """A conversation's page, as a logged-in operator finds it on the conversations page."""
    with httpx.Client(base_url=panel_world.panel_url, trust_env=False) as http:
        assert http.post("/login", data={"token": panel_world.token}).status_code == 303
        listing = http.get("/conversations", params={"client": "pizzeria-roma"})
    found = re.search(r'href="(/conversations/pizzeria-roma/[^"]+)"', listing.text)
    assert found, listing.text
    return found.group(1)


@pytest.fixture
def every_page(thread_path: str) -> Iterator[list[str]]:
    yield [*PAGES, thread_path]


def test_without_the_session_cookie_every_page_leads_to_the_login_page(
    open_page: Any, panel_world: PanelWorld, every_page: list[str]
) -> None:
    page = open_page(logged_in=False, expected=("status of 401",))
    for path in every_page:
        page.goto(panel_world.url(path))
        assert page.url == panel_world.url(f"/login?next={quote(path, safe='')}"), path
        assert page.locator("#token").is_visible()

    for path in API:
        response = page.goto(panel_world.url(path))
        assert response.status == 401, path
    fetched = page.evaluate("path => fetch(path).then(r => r.status)", API[0])
    assert fetched == 401


def test_a_page_whose_session_cookie_is_gone_sends_its_reader_to_log_in(
    open_page: Any, panel_world: PanelWorld
) -> None:
    page = open_page(expected=("status of 401",))
    page.goto(panel_world.url("/system"))
    assert page.url == panel_world.url("/system")

    page.context.clear_cookies()
    # The page's next poll answers 401, and its script goes to the login page.
    with page.expect_navigation():
        page.evaluate("window.horizonPanel.refresh()")
    assert page.url == panel_world.url("/login?next=%2Fsystem")


def test_over_plain_http_nothing_but_the_login_page_answers_without_a_session(
    anonymous_http: httpx.Client, every_page: list[str]
) -> None:
    for path in every_page + ASSETS:
        response = anonymous_http.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == f"/login?next={quote(path, safe='')}"
    for path in API:
        response = anonymous_http.get(path, headers={"Accept": "application/json"})
        assert response.status_code == 401, path
        assert response.json()["title"] == "Not logged in"
    with httpx.Client(
        base_url=anonymous_http.base_url, cookies={SESSION_COOKIE: "forged"}, trust_env=False
    ) as forger:
        assert forger.get(API[0]).status_code == 401
        assert forger.get("/").status_code == 303
    assert anonymous_http.get("/login").status_code == 200


def test_no_page_logs_an_error_or_breaks_its_content_security_policy(
    open_page: Any, panel_world: PanelWorld, every_page: list[str]
) -> None:
    page = open_page()
    for path in every_page:
        page.goto(panel_world.url(path))
        page.wait_for_load_state("networkidle")
        # One poll too, so the script's updates of the page run under the policy as well.
        page.evaluate("window.horizonPanel.refresh()")
        page.wait_for_selector('#refreshed[data-state="ok"]')
    # The open_page fixture fails the test on any console error or CSP violation.


def test_the_watch_sees_a_content_security_policy_violation(
    browser: Any, session_state: dict, panel_world: PanelWorld
) -> None:
    """The check above is not vacuous: an inline script on a panel page is reported."""
    context = browser.new_context(storage_state=session_state)
    try:
        page = context.new_page()
        problems = watch(page)
        page.goto(panel_world.url("/system"))
        page.evaluate(
            """() => {
              const script = document.createElement("script");
              script.textContent = "window.injected = true";
              document.body.appendChild(script);
            }"""
        )
        page.wait_for_timeout(200)
        assert page.evaluate("window.injected") is None
        assert any("script-src" in violation for violation in problems.csp), problems
    finally:
        context.close()
