"""A client's file as committed, with the commit, for the panel (horizon/config/committed.py)."""

from __future__ import annotations

from pathlib import Path

from horizon.config.committed import committed_file, head_commit

ROMA = """\
name: Pizzería Roma
number: "+34910000101"
assistant:
  instructions: |
    Eres el asistente de Pizzería Roma.
"""


def test_the_text_is_the_committed_one_with_its_commit(repo):
    path = repo.write("clients/pizzeria-roma.yaml", ROMA)
    repo.commit("clients/pizzeria-roma.yaml")
    commit = repo.git("rev-parse", "HEAD").strip()
    found = committed_file(path)
    assert (found.text, found.commit, found.tracked, found.changed) == (ROMA, commit, True, False)
    assert head_commit(repo.clients) == commit

    path.write_text(ROMA.replace("Roma.", "Roma, en Madrid."), encoding="utf-8")
    edited = committed_file(path)
    assert edited.text == ROMA and edited.changed is True  # git's text, flagged as edited
    assert edited.as_json()["text"] == ROMA


def test_a_file_git_does_not_hold_is_shown_from_disk(repo):
    repo.write("clients/other.yaml", "name: Other\n")
    repo.commit("clients/other.yaml")
    path = repo.write("clients/pizzeria-roma.yaml", ROMA)
    found = committed_file(path)
    assert (found.text, found.tracked, found.changed) == (ROMA, False, True)
    assert found.commit == repo.git("rev-parse", "HEAD").strip()


def test_outside_git_there_is_no_commit(tmp_path: Path):
    path = tmp_path / "pizzeria-roma.yaml"
    path.write_text(ROMA, encoding="utf-8")
    found = committed_file(path)
    assert (found.text, found.commit, found.tracked, found.changed) == (ROMA, None, False, False)
    assert head_commit(tmp_path) is None
