"""`horizon new` writes a client file that validates, and refuses to clobber anything."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from horizon.config.loader import load_fleet
from horizon.config.scaffold import NewClient, ScaffoldError, create_client_file

DATA = Path(__file__).parent.parent / "data"


@pytest.fixture
def clients(tmp_path: Path) -> Path:
    directory = tmp_path / "clients"
    directory.mkdir()
    shutil.copy(DATA / "valid" / "000-valid.yaml", directory)
    return directory


def test_new_client_file_validates_and_keeps_the_schema_comment(clients: Path) -> None:
    new = NewClient("la-tienda", 'La Tienda "Azul"', "+34910000301", "Line one.\nLine two.")

    path = create_client_file(clients, new)

    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=../schema.json\n")
    result = load_fleet(clients)
    assert result.ok
    client = result.fleet.by_id["la-tienda"]
    assert client.name == 'La Tienda "Azul"'
    assert client.number == "+34910000301"
    assert client.assistant.instructions == "Line one.\nLine two."


def test_existing_client_is_never_overwritten(clients: Path) -> None:
    before = (clients / "000-valid.yaml").read_text()

    with pytest.raises(ScaffoldError, match="already exists"):
        create_client_file(clients, NewClient("000-valid", "X", "+34910000302", "Hi."))

    assert (clients / "000-valid.yaml").read_text() == before


def test_number_of_another_client_is_refused(clients: Path) -> None:
    with pytest.raises(ScaffoldError, match="already the number of .*000-valid.yaml"):
        create_client_file(clients, NewClient("copycat", "Copy", "+34910000199", "Hi."))

    assert not (clients / "copycat.yaml").exists()


@pytest.mark.parametrize(
    ("new", "words"),
    [
        (NewClient("Bad Id", "X", "+34910000303", "Hi."), "3-48 lowercase"),
        (NewClient("bad-number", "X", "0034 910", "Hi."), "number:"),
        (NewClient("blank-name", " ", "+34910000304", "Hi."), "name:"),
    ],
)
def test_invalid_new_client_writes_nothing(clients: Path, new: NewClient, words: str) -> None:
    with pytest.raises(ScaffoldError, match=words):
        create_client_file(clients, new)

    assert sorted(p.name for p in clients.iterdir()) == ["000-valid.yaml"]
