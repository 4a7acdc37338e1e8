"""Live drift in a real Chromium: a change made at Twilio (through its SDK, against the
sandbox) shows on the fleet page after "Refresh drift", and goes once reconcile applies."""

from __future__ import annotations

from typing import Any

from horizon.endpoints import inbound_url
from horizon.providers.twilio_senders import SparseBody
from tests.panel.conftest import PanelWorld, reconcile_fleet, refresh_drift_until

ELSEWHERE = "https://elsewhere.example/whatsapp"


def test_a_sender_changed_at_twilio_is_out_of_sync_until_reconcile_applies(
    page: Any, panel_world: PanelWorld
) -> None:
    client = panel_world.fleet.by_id["harbor-hardware"]
    senders = panel_world.sandbox.twilio().messaging.v2.channels_senders
    sender = next(
        s for s in senders.stream(channel="whatsapp") if s.sender_id == f"whatsapp:{client.number}"
    )
    refresh_drift_until(page, panel_world, client.id, "Synced")

    senders(sender.sid).update(SparseBody({"webhook": {"callback_url": ELSEWHERE}}))
    try:
        cell = refresh_drift_until(page, panel_world, client.id, "OutOfSync")
        fields = cell.get_attribute("data-fields").split(",")
        assert fields == ["whatsapp_sender.webhook.callback_url"]
        assert "callback_url" in cell.text_content()
        others = [c.id for c in panel_world.fleet if c.id != client.id]
        for other in others:
            row = page.locator(f'#fleet tr[data-client="{other}"] [data-col="sync"]')
            assert row.get_attribute("data-status") == "Synced", other
        # Problems first: the drifted client is the first row.
        assert page.locator("#fleet tbody tr").first.get_attribute("data-client") == client.id
    finally:
        reconcile_fleet(panel_world.fleet, panel_world.settings)

    cell = refresh_drift_until(page, panel_world, client.id, "Synced")
    assert cell.text_content().strip() == "Synced"
    assert senders(sender.sid).fetch().webhook["callback_url"] == inbound_url(
        panel_world.webhook_url
    )
