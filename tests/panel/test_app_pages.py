"""The panel's pages and their JSON over real traffic: every page answers with the figures
stored, and no response ever holds a user's full number."""

from __future__ import annotations

import re

from tests.panel import world

traffic, panel = world.traffic, world.panel  # the fixtures


def test_fleet_page_lists_every_client_with_its_figures(panel):
    page = panel.get("/")
    assert page.status_code == 200
    for client in ("pizzeria-roma", "farmacia-sol", "bar-cerrado", "tienda-limitada"):
        assert f'data-client="{client}"' in page.text
    row = re.search(r'<tr data-client="pizzeria-roma".*?</tr>', page.text, re.S).group(0)
    assert re.search(r'data-col="today"[^>]*data-value="4"', row)  # 2 in, 2 out
