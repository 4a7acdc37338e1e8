"""One apply per account at a time; the lock goes with its holder."""

from __future__ import annotations

import pytest

from horizon.reconcile.lock import LockHeld, apply_lock, lock_path


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
