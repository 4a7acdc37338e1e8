"""The panel over a real drift checker planning against the sandbox: the Refresh drift
button runs a check in the background, and the fleet, client and system pages show it."""

from __future__ import annotations

import time

from horizon.ops.drift import DriftChecker
from tests.panel import world

traffic = world.traffic  # the fixture


def test_refresh_drift_checks_in_the_background_and_the_pages_show_it(traffic, sandbox):
    public = {"HORIZON_PUBLIC_URL": "https://bots.example.com"}  # where senders should point
    drift = DriftChecker(world.settings_for(traffic, **public), traffic.clients_dir)
    client, store = world.app_client(traffic, drift=drift, **public)
    cookies = {"horizon_session": world.log_in(client).cookies["horizon_session"].value}
    assert client.simulate_get("/api/fleet", cookies=cookies).json["fields"]["drift_checked"] == (
        "not yet"
    )

    pressed = client.simulate_post("/drift/refresh", cookies=cookies)
    assert pressed.status_code == 303 and pressed.headers["Location"] == "/"
    deadline = time.monotonic() + 20
    while drift.latest() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert drift.latest() is not None and drift.latest().error is None

    fleet = client.simulate_get("/api/fleet", cookies=cookies).json
    rows = {row["client"]: row for row in fleet["clients"]}
    # The sandbox was emptied: every client's sender is still to be created.
    assert {row["sync"] for row in rows.values()} == {"Missing"}
    roma = rows["pizzeria-roma"]
    assert roma["sender_status"] == "MISSING"
    assert roma["display"]["sync"].startswith("Missing: ")
    assert 'whatsapp_sender "whatsapp:+34910000101"' in roma["sync_fields"]
    assert fleet["fields"]["drift_checked"].endswith("UTC")
    page = client.simulate_get("/", cookies=cookies).text
    assert 'class="sync-status" data-status="Missing"' in page
    assert (
        client.simulate_get("/api/system", cookies=cookies)
        .json["fields"]["drift_checked"]
        .endswith("UTC")
    )
    facts = client.simulate_get("/api/clients/pizzeria-roma", cookies=cookies).json["fields"]
    assert facts["sender"] == "MISSING" and facts["sync"].startswith("Missing")
    assert client.simulate_post("/api/drift/refresh", cookies=cookies).status_code == 202
    store.close()


def test_a_failed_drift_check_is_shown_on_one_line(traffic, sandbox):
    drift = DriftChecker(world.settings_for(traffic), traffic.clients_dir)  # no public URL
    client, store = world.app_client(traffic, drift=drift)
    cookies = {"horizon_session": world.log_in(client).cookies["horizon_session"].value}
    drift.refresh()
    fields = client.simulate_get("/api/fleet", cookies=cookies).json["fields"]
    assert "HORIZON_PUBLIC_URL is not set" in fields["drift_error"]
    assert "HORIZON_PUBLIC_URL is not set" in client.simulate_get("/", cookies=cookies).text
    store.close()


def test_refresh_drift_without_a_checker_says_so(traffic):
    client, store = world.app_client(traffic)
    cookies = {"horizon_session": world.log_in(client).cookies["horizon_session"].value}
    result = client.simulate_post("/drift/refresh", cookies=cookies)
    assert result.status_code == 409 and "drift checks are off" in result.text
    store.close()
