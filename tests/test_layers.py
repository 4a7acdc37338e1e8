"""The layers of pyproject.toml's import contract hold, and an upward import breaks them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, capture_output=True, text=True, check=False
    )


def test_every_import_points_down():
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_the_store_importing_the_webhook_breaks_the_contract(tmp_path: Path):
    shutil.copytree(ROOT / "horizon", tmp_path / "horizon")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with (tmp_path / "horizon" / "store" / "records.py").open("a") as module:
        module.write("\nfrom horizon.webhook import app  # noqa: E402\n")

    result = lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout
    assert "horizon.store is not allowed to import horizon.webhook" in result.stdout
