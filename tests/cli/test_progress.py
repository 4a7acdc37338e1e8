"""Progress bars: drawn on a terminal for backup, restore and purge; never in a pipe."""

from __future__ import annotations

import pytest

from horizon.store import InboundMessage, Store
from tests.cli.progress_terminal import environment, run_on_terminal, run_piped

BAR = "━"  # rich's bar


@pytest.fixture
def database(tmp_path) -> str:
    url = f"sqlite:///{tmp_path}/horizon.db"
    store = Store.open(url)
    for n in range(300):
        message = InboundMessage(
            f"SM{n:032x}", "+34600000001", "+34910000101", "whatsapp", "hola", "pizzeria-roma"
        )
        store.queue.record_inbound(message)
    store.close()
    return url


def test_backup_and_restore_draw_a_bar_on_a_terminal(database, tmp_path):
    file = str(tmp_path / "backup.jsonl.gz")
    code, terminal = run_on_terminal("backup", file, env=environment(HORIZON_DATABASE_URL=database))
    assert code == 0, terminal
    assert "Backing up" in terminal and BAR in terminal
    target = environment(HORIZON_DATABASE_URL=f"sqlite:///{tmp_path}/restored.db")
    code, terminal = run_on_terminal("restore", file, env=target)
    assert code == 0, terminal
    assert "Checking" in terminal and "Restoring" in terminal and BAR in terminal


def test_piped_commands_print_no_bar(database, tmp_path):
    file = str(tmp_path / "backup.jsonl.gz")
    runs = [
        run_piped("backup", file, env=environment(HORIZON_DATABASE_URL=database)),
        run_piped(
            "restore", file, env=environment(HORIZON_DATABASE_URL=f"sqlite:///{tmp_path}/r.db")
        ),
        run_piped("purge", "--older-than", "1d", env=environment(HORIZON_DATABASE_URL=database)),
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert BAR not in run.stderr + run.stdout and "\x1b[" not in run.stderr + run.stdout
    assert runs[0].stdout.startswith("Backed up 300 messages, 0 turns, 300 work, ")
    assert runs[1].stdout.startswith("Restored 300 messages, 300 work from ")


def test_in_ci_no_bar_is_drawn_even_on_a_terminal(database, tmp_path):
    env = {**environment(HORIZON_DATABASE_URL=database), "CI": "true"}
    code, terminal = run_on_terminal("backup", str(tmp_path / "b.jsonl.gz"), env=env)
    assert code == 0 and BAR not in terminal and "Backing up" not in terminal
