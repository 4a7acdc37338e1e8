"""A world to reconcile: a copy of the example clients and a sandbox the CLI is pointed at."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from horizon.cli import main
from horizon.config.fleet import Fleet
from horizon.config.loader import load_fleet
from horizon.providers.registry import build_providers
from horizon.vendors.retry import RetryPolicy

EXAMPLES = Path(__file__).parents[2] / "clients"
PUBLIC_URL = "https://bots.example.com"
# Quick back-off for tests, and attempts enough that 30% injected failures rarely exhaust them.
TEST_POLICY = RetryPolicy(attempts=10, base_delay=0.01, max_delay=0.1, budget=10.0)


@dataclass
class World:
    sandbox: object
    clients_dir: Path

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    def fleet(self) -> Fleet:
        result = load_fleet(self.clients_dir)
        assert result.ok, result.errors
        return result.fleet

    def providers(self, policy: RetryPolicy = TEST_POLICY) -> list:
        return build_providers(self.sandbox.settings(HORIZON_PUBLIC_URL=PUBLIC_URL), policy)

    def client_file(self, client_id: str) -> Path:
        return self.clients_dir / f"{client_id}.yaml"

    def edit(self, client_id: str, old: str, new: str) -> None:
        path = self.client_file(client_id)
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def world(sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    """The example clients in a temp dir, and the environment pointing `horizon` at the sandbox."""
    clients_dir = tmp_path / "clients"
    shutil.copytree(EXAMPLES, clients_dir)
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name, value in sandbox.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HORIZON_PUBLIC_URL", PUBLIC_URL)
    monkeypatch.setenv("HORIZON_CLIENTS_DIR", str(clients_dir))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the apply lock file lives here
    return World(sandbox, clients_dir)
