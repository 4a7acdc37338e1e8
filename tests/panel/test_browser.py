"""The panel in a real headless Chromium over the demo's world (tests/panel/conftest.py):
logging in, the fleet, a client's charts, a conversation, phone width, refresh in place.

Every page opened here also fails its test on a console error, an uncaught exception or
a Content-Security-Policy violation (the `open_page` fixture).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.panel.conftest import USERS, PanelWorld, refresh_drift_until

PHONE = {"width": 390, "height": 844}
# How long a test waits for the page's own 15 s poll.
POLL_WAIT_MS = 25_000


def fleet_row(page: Any, client_id: str) -> Any:
    return page.locator(f'#fleet tbody tr[data-client="{client_id}"]')


def wait_until(page: Any, predicate: str, arg: object, timeout_ms: int = 15_000) -> None:
    """Poll `predicate(arg)` in the page until it is true. Not page.wait_for_function:
    older Playwright releases evaluate its predicate with eval, which the panel's CSP
    refuses (and reports)."""
    for _ in range(timeout_ms // 100):
        if page.evaluate(predicate, arg):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"still false after {timeout_ms} ms: {predicate}")


def test_logging_in_with_the_token_leads_where_the_user_was_going(
    open_page: Any, panel_world: PanelWorld
) -> None:
    # The refused attempt's page comes with a 401, which Chromium logs.
    page = open_page(logged_in=False, expected=("status of 401",))
    page.goto(panel_world.url("/system"))
    assert re.search(r"/login\?next=%2Fsystem$", page.url)

    page.fill("#token", "not-the-token")
    page.click("#login")
    assert "token" in page.locator("#login-error").text_content().lower()

    page.fill("#token", panel_world.token)
    page.click("#login")
    page.wait_for_url(panel_world.url("/system"))
    assert page.locator("h1").first.text_content().strip() == "System"


def test_the_fleet_lists_every_demo_client_online_and_synced(
    page: Any, panel_world: PanelWorld
) -> None:
    for client in panel_world.fleet:
        refresh_drift_until(page, panel_world, client.id, "Synced")

    rows = page.locator("#fleet tbody tr")
    assert sorted(rows.evaluate_all("rows => rows.map(r => r.dataset.client)")) == sorted(
        client.id for client in panel_world.fleet
    )
    for client in panel_world.fleet:
        row = fleet_row(page, client.id)
        assert client.name in row.locator('[data-col="name"]').text_content()
        assert row.locator('[data-col="number"]').text_content().strip() == client.number
        sender = row.locator('[data-col="sender"]')
        assert sender.get_attribute("data-status") == "ONLINE"
        assert "online" in sender.text_content().lower()
        sync = row.locator('[data-col="sync"]')
        assert sync.get_attribute("data-status") == "Synced"
        assert sync.text_content().strip() == "Synced"
        # Every demo user wrote to every client today, and each was answered.
        assert int(row.locator('[data-col="today"]').get_attribute("data-value")) >= len(USERS)
        assert row.locator('[data-col="failures"]').text_content().strip() == "0"


def test_a_client_page_draws_its_charts_and_shows_its_committed_config(
    page: Any, panel_world: PanelWorld
) -> None:
    page.goto(panel_world.url("/"))
    page.click('#fleet a[href="/clients/pizzeria-roma"]')
    page.wait_for_url(panel_world.url("/clients/pizzeria-roma"))

    for chart in ("messages", "latency", "cost"):
        canvas = page.locator(f"#chart-{chart}")
        wait_until(page, DRAWN, f"chart-{chart}")
        box = canvas.bounding_box()
        assert box["width"] > 200 and box["height"] > 100, (chart, box)
    assert "Eres el asistente de Pizzería Roma" in page.locator("#config-text").text_content()
    assert re.search(r"commit [0-9a-f]{7,40}", page.locator("#config-commit").text_content())


# A canvas is drawn when Chart.js has made a chart of it and painted some pixels.
DRAWN = """id => {
  const canvas = document.getElementById(id);
  if (!canvas || !window.Chart || !Chart.getChart(canvas)) return false;
  const { width, height } = canvas;
  if (!width || !height) return false;
  const pixels = canvas.getContext("2d").getImageData(0, 0, width, height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted += 1;
  return painted > 500;
}"""


def test_a_conversation_shows_a_masked_number_and_each_message_status(
    page: Any, panel_world: PanelWorld
) -> None:
    page.goto(panel_world.url("/conversations?client=pizzeria-roma"))
    users = page.locator('#conversations td[data-label="User"]').all_text_contents()
    assert len(users) == len(USERS)
    assert all(re.fullmatch(r"\+\*+\d{4}", user.strip()) for user in users), users

    page.locator('#conversations td[data-label="User"] a', has_text="4321").click()
    page.wait_for_selector("#thread tbody tr")
    assert re.fullmatch(r"\+\*+4321", page.locator("#thread-user").text_content().strip())
    rows = page.locator("#thread tbody tr")
    directions = rows.evaluate_all("rows => rows.map(r => r.dataset.direction)")
    assert directions == ["inbound", "outbound"]
    statuses = page.locator('#thread td[data-label="Status"]').all_text_contents()
    assert [status.strip() for status in statuses] == ["answered", "delivered"]
    outbound = page.locator('#thread tr[data-direction="outbound"]').first
    assert re.search(r"\d", outbound.locator('td[data-label="Tokens"]').text_content())
    inbound = page.locator('#thread tr[data-direction="inbound"]').first
    assert re.search(r"\d", inbound.locator('td[data-label="Latency"]').text_content())
    html = page.content()
    assert not any(user in html or user[1:] in html for user in USERS)


@pytest.mark.parametrize("path", ["/", "/conversations", "/system", "/clients/harbor-hardware"])
def test_every_page_fits_a_phone_without_sideways_scrolling(
    open_page: Any, panel_world: PanelWorld, path: str
) -> None:
    page = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto(panel_world.url(path))
    page.wait_for_load_state("networkidle")

    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{path} is {overflow} px wider than the phone"
    if path == "/":
        for client in panel_world.fleet:
            name = fleet_row(page, client.id).locator('[data-col="name"] a')
            assert name.is_visible()
            box = name.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (client.id, box)


def test_figures_refresh_in_place_after_new_traffic(page: Any, panel_world: PanelWorld) -> None:
    client = panel_world.fleet.by_id["farmacia-sol"]
    page.goto(panel_world.url("/"))
    today = fleet_row(page, client.id).locator('[data-col="today"]')
    before = int(today.get_attribute("data-value"))
    page.evaluate("window.__sameDocument = true")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    panel_world.converse("+34633334444", client.number, "¿Abrís el domingo?")

    wait_until(
        page,
        """([id, before]) => {
          const cell = document.querySelector(`#fleet tr[data-client="${id}"] [data-col="today"]`);
          return Number(cell.dataset.value) > before;
        }""",
        [client.id, before],
        POLL_WAIT_MS,
    )
    assert int(today.text_content().strip()) > before
    assert page.evaluate("window.__sameDocument") is True and navigations == []
    assert page.locator("#refreshed").get_attribute("data-state") == "ok"
