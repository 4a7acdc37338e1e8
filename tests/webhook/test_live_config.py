"""The live configuration: reloads swap it only when valid, and every reload is counted."""

from __future__ import annotations

import asyncio

from horizon.config.loader import load_fleet
from horizon.telemetry.metrics import Metrics
from horizon.webhook.live_config import LiveConfig, watch


def reloads(metrics: Metrics, result: str) -> float:
    return metrics.registry.get_sample_value("horizon_config_reloads_total", {"result": result})


def test_the_file_watcher_reloads_on_a_change_and_counts_each_reload(clients_dir):
    metrics = Metrics()
    live_config = LiveConfig(load_fleet(clients_dir).fleet, clients_dir, metrics)

    async def edit_while_watching() -> None:
        watching = asyncio.get_running_loop().create_task(watch(live_config, interval=0.05))
        try:
            await asyncio.sleep(0.2)
            (clients_dir / "bar-nuevo.yaml").write_text(
                'name: Bar Nuevo\nnumber: "+34910000105"\nassistant:\n  instructions: Hola.\n'
            )
            for _ in range(100):
                if reloads(metrics, "applied"):
                    break
                await asyncio.sleep(0.05)
            (clients_dir / "roto.yaml").write_text("name: Roto\nnumber: nope\n")
            for _ in range(100):
                if reloads(metrics, "rejected"):
                    break
                await asyncio.sleep(0.05)
        finally:
            watching.cancel()

    asyncio.run(edit_while_watching())

    assert (reloads(metrics, "applied"), reloads(metrics, "rejected")) == (1.0, 1.0)
    assert live_config.fleet.route("+34910000105").id == "bar-nuevo"
