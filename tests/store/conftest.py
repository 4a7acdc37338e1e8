"""Fixtures for the store's tests: a backup of real webhook traffic."""

from __future__ import annotations

from pathlib import Path

import pytest

from horizon.store.backup import write_backup
from tests.traffic import ANA, EVA, LUIS, ROMA, SOL, converse, figures, serving, table_rows
from tests.webhook.conftest import write_clients

TRAFFIC = [
    (ANA, ROMA, "¿Tenéis mesa para dos?"),
    (LUIS, ROMA, "¿Hasta qué hora abrís?"),
    (ANA, SOL, "¿Tenéis ibuprofeno?"),
    (EVA, SOL, "Hola"),
    (EVA, ROMA, "STOP"),
]


@pytest.fixture(scope="module")
def traffic_backup(tmp_path_factory, _shared_sandbox) -> tuple[Path, dict, dict]:
    """A backup of a SQLite store the webhook wrote answering TRAFFIC, its rows and figures."""
    sandbox = _shared_sandbox
    sandbox.reset()
    folder = tmp_path_factory.mktemp("traffic")
    clients_dir = write_clients(folder / "clients")
    with serving(sandbox, clients_dir, f"sqlite:///{folder}/source.db") as webhook:
        converse(sandbox, webhook, TRAFFIC)
        store = webhook.webhook.store.store
        path = folder / "horizon-backup.jsonl.gz"
        write_backup(store, path)
        return path, table_rows(store), figures(store)
