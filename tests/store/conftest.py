"""Fixtures for the store's tests: a backup of real webhook traffic."""

from __future__ import annotations

from pathlib import Path

import pytest

from horizon.store import Store
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
    url = f"sqlite:///{folder}/source.db"
    with serving(sandbox, clients_dir, url) as webhook:
        converse(sandbox, webhook, TRAFFIC)
    # Stopped: no late status callback changes a row between the backup and `rows`.
    store = Store.open(url)
    path = folder / "horizon-backup.jsonl.gz"
    write_backup(store, path)
    rows, figures_then = table_rows(store), figures(store)
    store.close()
    return path, rows, figures_then
