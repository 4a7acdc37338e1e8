"""`horizon reconcile --yes` shows a progress bar while applying, on a terminal only."""

from __future__ import annotations

from tests.cli.progress_terminal import environment, run_on_terminal, run_piped


def test_apply_draws_a_bar_on_a_terminal(world):
    code, terminal = run_on_terminal("reconcile", "--yes", env=environment())
    assert code == 0, terminal
    assert "Applying 4 changes" in terminal and "━" in terminal


def test_piped_apply_prints_no_bar(world):
    run = run_piped("reconcile", "--yes", env=environment())  # no CI: only the pipe silences it
    assert run.returncode == 0, run.stderr
    assert "Apply complete: 4 applied, 0 failed" in run.stdout
    assert "━" not in run.stderr + run.stdout and "\x1b[" not in run.stderr
