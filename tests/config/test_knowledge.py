"""Knowledge files are plain files the repository tracks: never a link, a hidden file or
something git does not track, which reconcile would upload for any WhatsApp user to read."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from horizon.cli import main
from horizon.config.loader import load_fleet
from tests.config.conftest import Repo

CLIENT = """\
name: Bar Luna
number: "+34910000301"
assistant:
  instructions: Hi.
  knowledge:
{files}
"""


def client(*files: str) -> str:
    return CLIENT.format(files="\n".join(f"    - {name}" for name in files))


def test_committed_links_to_env_and_git_config_are_refused_by_validate(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write(".env", "OPENAI_API_KEY=sk-live-secret\n")
    repo.write("clients/luna.yaml", client("luna/faq.txt", "luna/notes.md"))
    (repo.clients / "luna").mkdir()
    (repo.clients / "luna" / "faq.txt").symlink_to("../../.env")
    (repo.clients / "luna" / "notes.md").symlink_to("../../.git/config")
    repo.commit("clients")  # git tracks the links themselves
    monkeypatch.chdir(repo.root)

    result = CliRunner().invoke(main, ["validate"])

    assert result.exit_code == 1
    assert result.stderr.splitlines()[:2] == [
        "clients/luna.yaml:6:7: assistant.knowledge[0]: 'luna/faq.txt' goes through a "
        "symbolic link (faq.txt); knowledge files must be plain files of the repository",
        "clients/luna.yaml:7:7: assistant.knowledge[1]: 'luna/notes.md' goes through a "
        "symbolic link (notes.md); knowledge files must be plain files of the repository",
    ]


def test_a_file_git_does_not_track_is_refused_in_a_checkout(repo: Repo) -> None:
    repo.write("clients/luna.yaml", client("luna/menu.md", "luna/drinks.md"))
    repo.write("clients/luna/menu.md", "# Menu\n")
    repo.write("clients/luna/drinks.md", "# Drinks\n")
    repo.commit("clients/luna.yaml", "clients/luna/menu.md")

    result = load_fleet(repo.clients)

    assert [(e.line, e.path, e.message) for e in result.errors] == [
        (
            7,
            "assistant.knowledge[1]",
            "'luna/drinks.md' is not a file git tracks (git add it, or remove it from the list)",
        )
    ]


def test_files_git_tracks_anywhere_in_the_checkout_are_knowledge(repo: Repo) -> None:
    repo.write("clients/luna.yaml", client("luna/menu.md", "../docs/hours.md"))
    repo.write("clients/luna/menu.md", "# Menu\n")
    repo.write("docs/hours.md", "# Hours\n")
    repo.commit("clients", "docs")

    result = load_fleet(repo.clients)

    assert result.ok, result.errors
    (luna,) = result.fleet
    assert luna.knowledge_paths() == [repo.clients / "luna/menu.md", repo.root / "docs/hours.md"]


def test_outside_a_checkout_git_has_no_say(repo: Repo, tmp_path: Path) -> None:
    repo.write("clients/luna.yaml", client("luna/menu.md"))
    repo.write("clients/luna/menu.md", "# Menu\n")
    copy = tmp_path / "copy"
    shutil.copytree(repo.root, copy, ignore=shutil.ignore_patterns(".git"))

    assert not load_fleet(repo.clients).ok
    assert load_fleet(copy / "clients").ok


def git_logging_to(log: Path, directory: Path) -> Path:
    """A `git` that notes each call in `log` and runs the real one."""
    real = shutil.which("git")
    wrapper = directory / "git"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    return directory


def test_git_runs_once_per_load_and_not_at_all_without_knowledge(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"luna/file-{i}.md" for i in range(5)]
    for name in names:
        repo.write(f"clients/{name}", f"# {name}\n")
    repo.write("clients/luna.yaml", client(*names))
    repo.write("clients/sol.yaml", client("luna/file-0.md").replace("301", "302"))
    repo.commit("clients")
    log = tmp_path / "git.log"
    bin_dir = git_logging_to(log, tmp_path)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    assert load_fleet(repo.clients).ok
    calls = log.read_text().splitlines()
    (repo.clients / "luna.yaml").unlink()
    (repo.clients / "sol.yaml").write_text(CLIENT.format(files="    []").replace("301", "302"))
    log.unlink()
    assert load_fleet(repo.clients).ok

    assert [call.split()[2] for call in calls] == ["ls-files"]
    assert not log.exists()


def test_a_checkout_git_cannot_read_refuses_knowledge_naming_the_reason(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("clients/luna.yaml", client("luna/menu.md"))
    repo.write("clients/luna/menu.md", "# Menu\n")
    repo.commit("clients")
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))

    (error,) = load_fleet(repo.clients).errors

    assert (error.line, error.path) == (6, "assistant.knowledge[0]")
    assert error.message == (
        "'luna/menu.md' cannot be checked against git: cannot run git (No such file or directory)"
    )
