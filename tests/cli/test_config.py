"""The validate, schema and new commands: exit codes and output."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from horizon.cli import main

REPO = Path(__file__).parent.parent.parent


@pytest.fixture
def repo_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example clients and schema, as the working directory."""
    shutil.copytree(REPO / "clients", tmp_path / "clients")
    shutil.copy(REPO / "schema.json", tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HORIZON_CLIENTS_DIR", raising=False)
    return tmp_path


def test_examples_validate(repo_copy: Path) -> None:
    result = CliRunner().invoke(main, ["validate"])

    assert result.exit_code == 0, result.output
    assert result.output == "3 clients OK\n"


def test_clients_dir_comes_from_the_environment(repo_copy: Path) -> None:
    (repo_copy / "clients").rename(repo_copy / "fleet")

    result = CliRunner(env={"HORIZON_CLIENTS_DIR": "fleet"}).invoke(main, ["validate"])

    assert result.exit_code == 0, result.output


def test_schema_check_fails_on_a_stale_file_and_write_fixes_it(repo_copy: Path) -> None:
    (repo_copy / "schema.json").write_text("{}\n")
    runner = CliRunner()

    stale = runner.invoke(main, ["schema", "--check"])
    written = runner.invoke(main, ["schema"])
    current = runner.invoke(main, ["schema", "--check"])

    assert stale.exit_code == 1 and "stale" in stale.stderr
    assert written.exit_code == 0
    assert current.exit_code == 0
    assert (repo_copy / "schema.json").read_text() == (REPO / "schema.json").read_text()


def test_new_writes_a_valid_client_and_prints_next_steps(repo_copy: Path) -> None:
    args = ["new", "bar-luna", "--number", "+34910000401", "--name", "Bar Luna"]

    result = CliRunner().invoke(main, args)

    assert result.exit_code == 0, result.output
    assert "wrote clients/bar-luna.yaml" in result.output
    assert "pull request" in result.output
    assert CliRunner().invoke(main, ["validate"]).output == "4 clients OK\n"


def test_new_with_a_model_horizon_cannot_check_writes_it_with_a_warning(repo_copy: Path) -> None:
    args = ["new", "bar-luna", "--number", "+34910000401", "--name", "Bar Luna"]

    result = CliRunner().invoke(main, [*args, "--model", "gpt-7-turbo"])
    refused = CliRunner().invoke(main, ["new", "bar-sol", "--number", "+34910000402",
                                        "--name", "Bar Sol", "--model", "o1"])  # fmt: skip

    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "clients/bar-luna.yaml:7:10: assistant.model: warning: unknown model 'gpt-7-turbo'; "
        "Horizon cannot check its parameters\n"
    )
    assert refused.exit_code == 1
    assert "assistant.model: OpenAI shut o1 down on 2026-10-23" in refused.stderr
    assert not (repo_copy / "clients" / "bar-sol.yaml").exists()


def test_new_without_a_terminal_requires_the_missing_flags(repo_copy: Path) -> None:
    result = CliRunner().invoke(main, ["new", "bar-luna", "--name", "Bar Luna"])

    assert result.exit_code == 2
    assert "--number is required" in result.output
    assert not (repo_copy / "clients" / "bar-luna.yaml").exists()


def test_new_refuses_a_taken_number_with_a_one_line_error(repo_copy: Path) -> None:
    args = ["new", "copycat", "--number", "+34910000101", "--name", "Copycat"]

    result = CliRunner().invoke(main, args)

    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "already the number of clients/pizzeria-roma.yaml" in result.output


def test_validate_imports_neither_vendor_sdk(repo_copy: Path) -> None:
    probe = (
        "import sys, runpy; sys.argv = ['horizon', 'validate'];\n"
        "try: runpy.run_module('horizon', run_name='__main__')\n"
        "except SystemExit as exit: code = exit.code\n"
        "else: code = 0\n"
        "assert code in (0, None), code\n"
        "leaked = [m for m in sys.modules if m.split('.')[0] in ('twilio', 'openai')]\n"
        "assert not leaked, leaked\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env
    )

    assert completed.returncode == 0, completed.stderr
    assert "3 clients OK" in completed.stdout


def test_python_dash_m_horizon_runs_the_cli() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "horizon", "--version"], capture_output=True, text=True
    )

    assert completed.returncode == 0
    assert completed.stdout.startswith("horizon, version ")


def test_schema_check_fails_on_a_stale_readme_reference(repo_copy: Path) -> None:
    readme = repo_copy / "README.md"
    shutil.copy(REPO / "README.md", readme)
    readme.write_text(readme.read_text().replace("Business name", "Company name"))
    runner = CliRunner()

    stale = runner.invoke(main, ["schema", "--check"])
    runner.invoke(main, ["schema"])

    assert stale.exit_code == 1 and "README.md is stale" in stale.stderr
    assert readme.read_text() == (REPO / "README.md").read_text()
