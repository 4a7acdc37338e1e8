"""One apply per account at a time; the lock goes with its holder.

Without a PostgreSQL database the lock is a file on this machine; with one it is an
advisory lock there, so applies from two machines (two lock directories) exclude each other.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap

import pytest

from horizon.providers.registry import account_identity
from horizon.reconcile import reconcile
from horizon.reconcile.lock import LockHeld, LockUnavailable, apply_lock, lock_path

ACCOUNT = "AC1|https://api.twilio.com|https://api.openai.com/v1"


def test_second_holder_is_refused_with_who_holds_it(tmp_path):
    with (
        apply_lock("AC1|twilio|openai", tmp_path),
        pytest.raises(LockHeld) as refused,
        apply_lock("AC1|twilio|openai", tmp_path),
    ):
        pass

    assert "another reconcile is applying changes to this account (pid " in str(refused.value)


def test_lock_is_free_again_after_release_and_per_account(tmp_path):
    with apply_lock("AC1", tmp_path), apply_lock("AC2", tmp_path):
        pass
    with apply_lock("AC1", tmp_path):
        pass


def test_lock_file_name_reveals_nothing_of_the_account(tmp_path):
    assert "AC1" not in lock_path("AC1", tmp_path).name


def test_an_sqlite_database_keeps_the_lock_file(tmp_path):
    sqlite = f"sqlite:///{tmp_path}/horizon.db"

    with (
        apply_lock(ACCOUNT, tmp_path, database_url=sqlite) as where,
        pytest.raises(LockHeld) as refused,
        apply_lock(ACCOUNT, tmp_path, database_url=sqlite),
    ):
        pass

    assert where == str(lock_path(ACCOUNT, tmp_path))
    assert str(refused.value).endswith(f"(lock: {where})")


def test_an_unreachable_database_is_one_line_without_its_password():
    url = "postgresql://horizon:hunter2@127.0.0.1:1/horizon"

    with pytest.raises(LockUnavailable) as refused, apply_lock(ACCOUNT, database_url=url):
        pass

    message = str(refused.value)
    assert message.startswith(
        "could not take the apply lock (PostgreSQL advisory lock in "
        "postgresql+psycopg://horizon:***@127.0.0.1:1/horizon): "
    )
    assert "hunter2" not in message and "\n" not in message


def test_on_postgresql_two_lock_directories_still_exclude_each_other(postgres_url, tmp_path):
    first, second = tmp_path / "machine-1", tmp_path / "machine-2"
    first.mkdir(), second.mkdir()

    with (
        apply_lock(ACCOUNT, first, database_url=postgres_url),
        pytest.raises(LockHeld) as refused,
        apply_lock(ACCOUNT, second, database_url=postgres_url),
    ):
        pass
    with apply_lock(ACCOUNT, second, database_url=postgres_url):  # released on exit
        pass

    holder = f"(pid {os.getpid()} on {socket.gethostname()}, since "
    assert f"another reconcile is applying changes to this account {holder}" in str(refused.value)
    assert "PostgreSQL advisory lock in postgresql+psycopg://" in str(refused.value)
    assert list(first.iterdir()) == list(second.iterdir()) == []  # no lock files


def test_on_postgresql_the_lock_is_per_account(postgres_url):
    with (
        apply_lock(ACCOUNT, database_url=postgres_url),
        apply_lock(ACCOUNT + "-other", database_url=postgres_url),
    ):
        pass


def test_on_postgresql_a_killed_holder_leaves_no_stale_lock(postgres_url, tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from horizon.reconcile.lock import apply_lock
            with apply_lock({ACCOUNT!r}, database_url={postgres_url!r}):
                print("held", flush=True)
                time.sleep(60)
        """)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockHeld), apply_lock(ACCOUNT, database_url=postgres_url):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        holder.stdout.close()

    with apply_lock(ACCOUNT, tmp_path, database_url=postgres_url):
        pass


def senders(world) -> list[str]:
    listed = world.sandbox.twilio().messaging.v2.channels_senders.list(channel="whatsapp")
    return sorted(sender.sender_id for sender in listed)


def test_two_applies_from_two_machines_on_one_postgresql_never_overlap(
    world, postgres_url, tmp_path
):
    """The second apply, with its own lock directory (another machine), is refused at once
    while the first holds the lock; once the first is done it runs and finds nothing to do.
    Both authenticate to Twilio with an API key, as CI does, with no auth token at all."""
    key = world.sandbox.control("POST", "keys", {"friendly_name": "apply"})
    settings = world.sandbox.settings(
        TWILIO_AUTH_TOKEN="", TWILIO_API_KEY=key["sid"], TWILIO_API_SECRET=key["secret"]
    )
    other_machine = tmp_path / "other-machine"
    other_machine.mkdir()
    env = {name: value for name, value in os.environ.items() if name != "TWILIO_AUTH_TOKEN"}
    env |= {
        "TMPDIR": str(other_machine),
        "HORIZON_DATABASE_URL": postgres_url,
        "TWILIO_API_KEY": key["sid"],
        "TWILIO_API_SECRET": key["secret"],
    }

    def apply_elsewhere() -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "horizon", "reconcile", "--yes"]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    seen = {}

    def confirm(plan) -> bool:  # runs while this apply holds the lock
        seen["senders"] = senders(world)
        seen["second"] = apply_elsewhere()
        return True

    first = reconcile(
        world.fleet(),
        world.providers(),
        account=account_identity(settings),
        database_url=postgres_url,
        confirm=confirm,
    )

    refused = seen["second"]
    assert refused.returncode == 1, refused.stderr
    assert refused.stderr.startswith(
        "Error: another reconcile is applying changes to this account "
        f"(pid {os.getpid()} on {socket.gethostname()}, since "
    )
    assert seen["senders"] == []  # the refused apply changed nothing
    assert first.ok and len(first.report.outcomes) == 4
    assert list(other_machine.glob("horizon-reconcile-*")) == []
    later = apply_elsewhere()
    assert later.returncode == 0, later.stderr
    assert "No changes." in later.stdout
    assert len(senders(world)) == 3
