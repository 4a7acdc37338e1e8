"""`horizon serve` on a database it cannot use: one line naming the setting and the cause."""

from __future__ import annotations

import ctypes
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from horizon.store.store import Store

PR_CAPBSET_DROP = 24
# Root bypasses file modes through these; without them a read-only file is read-only for
# root too, as it is for the service user Horizon runs as.
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 1, 2, 3


def obey_file_modes() -> None:
    """In the child, before exec: as root, give up the capabilities that ignore file modes."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.fixture
def serve(tmp_path):
    """Run `horizon serve` with HORIZON_DATABASE_URL=url; returns (exit code, stderr lines)."""
    try:
        subprocess.run([sys.executable, "-c", "pass"], preexec_fn=obey_file_modes, check=True)
    except subprocess.SubprocessError:
        pytest.skip("running as root without the right to drop CAP_DAC_OVERRIDE")
    clients = tmp_path / "clients"
    clients.mkdir()
    (clients / "pizzeria-roma.yaml").write_text(
        'name: Pizzería Roma\nnumber: "+34910000101"\nassistant:\n  instructions: Hola.\n'
    )

    def run(url: str) -> tuple[int, list[str]]:
        env = {
            **os.environ,
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": "test-auth-token",
            "OPENAI_API_KEY": "sk-test",
            "HORIZON_PUBLIC_URL": "https://bots.example.com",
            "HORIZON_CLIENTS_DIR": str(clients),
            "HORIZON_DATABASE_URL": url,
        }
        done = subprocess.run(
            [sys.executable, "-m", "horizon", "serve", "--port", "0"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=obey_file_modes,
        )
        return done.returncode, done.stderr.splitlines()

    return run


def migrated_sqlite(path: Path) -> str:
    url = f"sqlite:///{path}"
    Store.open(url).close()
    return url


def test_a_read_only_sqlite_file_is_one_line_naming_the_setting(serve, tmp_path):
    url = migrated_sqlite(tmp_path / "horizon.db")
    for file in tmp_path.glob("horizon.db*"):
        file.chmod(0o444)
    code, stderr = serve(url)
    assert code == 1
    assert stderr == [
        f"Error: HORIZON_DATABASE_URL ({url}): the database is read-only: "
        "attempt to write a readonly database"
    ]


def test_a_database_in_an_unwritable_folder_is_one_line(serve, tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o555)
    code, stderr = serve(f"sqlite:///{folder}/horizon.db")
    assert code == 1
    [line] = stderr
    assert line.startswith(f"Error: HORIZON_DATABASE_URL (sqlite:///{folder}/horizon.db): ")
    assert "unable to open database file (does its folder exist" in line


def test_a_database_folder_that_cannot_be_created_is_one_line(serve, tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o555)
    code, stderr = serve(f"sqlite:///{folder}/data/horizon.db")
    assert code == 1
    assert stderr == [
        f"Error: HORIZON_DATABASE_URL (sqlite:///{folder}/data/horizon.db): "
        f"cannot create {folder}/data: Permission denied"
    ]


def test_an_unreachable_postgresql_is_one_line_without_the_password(serve):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, stderr = serve(f"postgresql://horizon:s3cret@127.0.0.1:{port}/horizon")
    assert code == 1
    [line] = stderr
    assert line.startswith(
        f"Error: HORIZON_DATABASE_URL (postgresql://horizon:***@127.0.0.1:{port}"
    )
    assert "cannot be opened" in line and "Connection refused" in line
    assert "s3cret" not in line


def test_a_read_only_postgresql_is_one_line(serve, postgres_url):
    Store.open(postgres_url).close()  # migrated, so only the write at start-up can tell
    url = make_url(postgres_url)
    options = url.query["options"] + " -cdefault_transaction_read_only=on"
    code, stderr = serve(url.update_query_dict({"options": options}).render_as_string(False))
    assert code == 1
    [line] = stderr
    assert line.startswith("Error: HORIZON_DATABASE_URL (postgresql")
    assert line.endswith(
        "the database is read-only: cannot execute UPDATE in a read-only transaction"
    )
