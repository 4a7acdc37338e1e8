"""`horizon backup` and `horizon restore` as commands: what they print, and one-line errors."""

from __future__ import annotations

import gzip

from click.testing import CliRunner

from horizon.cli import main
from horizon.store import InboundMessage, Store
from horizon.store.migrations import MIGRATIONS


def run(*args: str, database: str):
    return CliRunner().invoke(main, list(args), env={"HORIZON_DATABASE_URL": database})


def seeded(tmp_path) -> str:
    url = f"sqlite:///{tmp_path}/source.db"
    store = Store.open(url)
    store.queue.record_inbound(
        InboundMessage("SM" + "a" * 32, "+34600000001", "+34910000101", "whatsapp", "hola", "x")
    )
    store.users.set_opt_out("x", "+34600000001", True, "STOP")
    store.close()
    return url


def test_backup_then_restore_print_what_they_wrote(tmp_path):
    file = tmp_path / "b.jsonl.gz"
    backup = run("backup", str(file), database=seeded(tmp_path))
    assert backup.exit_code == 0, backup.output
    assert backup.output.startswith(
        f"Backed up 1 messages, 0 turns, 1 work, 0 conversations, 1 opt_outs, "
        f"0 monthly_usage to {file}\nschema version {MIGRATIONS[-1].version}, sha256 "
    )
    target = f"sqlite:///{tmp_path}/target.db"
    first, second = (
        run("restore", str(file), database=target),
        run("restore", str(file), database=target),
    )
    assert first.output == f"Restored 1 messages, 1 work, 1 opt_outs from {file}\n"
    assert second.output == (
        f"Restored no new rows from {file}\n"
        "Already there, unchanged: 1 messages, 1 work, 1 opt_outs\n"
    )


def test_a_truncated_backup_is_refused_in_one_line(tmp_path):
    file = tmp_path / "b.jsonl.gz"
    run("backup", str(file), database=seeded(tmp_path))
    file.write_bytes(file.read_bytes()[:-30])
    target = tmp_path / "target.db"
    result = run("restore", str(file), database=f"sqlite:///{target}")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {file}: not a complete gzip file (Compressed file ended before the "
        "end-of-stream marker was reached): truncated or damaged\n"
    )
    assert not target.exists()  # refused before the database was even opened


def test_missing_files_and_databases_are_one_line_errors(tmp_path):
    missing = run("restore", str(tmp_path / "nope.jsonl.gz"), database="sqlite:///x.db")
    assert missing.output == f"Error: {tmp_path / 'nope.jsonl.gz'}: no such file\n"
    no_database = run("backup", str(tmp_path / "b.gz"), database=f"sqlite:///{tmp_path}/no.db")
    assert no_database.output == (
        f"Error: no database at sqlite:///{tmp_path}/no.db (HORIZON_DATABASE_URL)\n"
    )
    no_folder = run("backup", str(tmp_path / "none" / "b.gz"), database=seeded(tmp_path))
    assert no_folder.exit_code == 1
    assert no_folder.output.startswith(f"Error: {tmp_path / 'none' / 'b.gz'}: ")
    assert len(no_folder.output.splitlines()) == 1


def test_the_file_is_gzip_json_lines_that_zcat_can_read(tmp_path):
    file = tmp_path / "b.jsonl.gz"
    run("backup", str(file), database=seeded(tmp_path))
    with gzip.open(file, "rt") as lines:
        assert [line[:40] for line in lines][:2] == [
            '{"format":"horizon-backup","format_versi',
            '{"table":"messages","row":{"id":1,"sid":',
        ]


def test_a_row_postgresql_refuses_is_a_one_line_error_and_nothing_is_restored(
    tmp_path, postgres_url
):
    source = f"sqlite:///{tmp_path}/nul.db"
    store = Store.open(source)
    for n, body in enumerate(["hola", "a\x00b"]):  # SQLite keeps a NUL; PostgreSQL text cannot
        store.queue.record_inbound(
            InboundMessage(f"SM{n:032d}", "+34600000001", "+34910000101", "whatsapp", body, "x")
        )
    store.close()
    file = tmp_path / "nul.jsonl.gz"
    assert run("backup", str(file), database=source).exit_code == 0

    result = run("restore", str(file), database=postgres_url)

    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith("Error: the database postgresql") and "NUL" in line
    assert line.endswith("; nothing was restored")
    assert "horizon:horizon@" not in line  # the password is not shown
    target = Store.open(postgres_url)
    assert target.find_messages() == []
    target.close()
