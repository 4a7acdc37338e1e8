"""`horizon.reconcile.reconcile`: plan, confirm, lock and apply in one call."""

from __future__ import annotations

import pytest

from horizon.reconcile import reconcile
from horizon.reconcile.lock import LockHeld, apply_lock


def sender_count(world) -> int:
    return len(
        world.sandbox.twilio().messaging.v2.channels_senders.list(
            channel="whatsapp", page_size=1000
        )
    )


def test_applies_the_plan_and_reports_each_change(world):
    seen = []

    result = reconcile(world.fleet(), world.providers(), on_plan=seen.append)

    assert result.ok
    assert seen == [result.plan]
    assert len(result.report.outcomes) == len(result.plan.to_apply) == 4
    assert sender_count(world) == 3
    assert reconcile(world.fleet(), world.providers()).plan.in_sync


def test_a_refused_confirmation_changes_nothing(world):
    asked = []

    result = reconcile(world.fleet(), world.providers(), confirm=lambda plan: asked.append(plan))

    assert asked == [result.plan] and result.report is None
    assert sender_count(world) == 0


def test_confirm_is_not_asked_when_there_is_nothing_to_apply(world):
    reconcile(world.fleet(), world.providers())

    result = reconcile(world.fleet(), world.providers(), confirm=pytest.fail)

    assert result.plan.in_sync and result.report is None


def test_another_run_on_the_same_account_is_refused_before_any_call(world):
    before = world.sandbox.requests()["total"]
    with apply_lock("the account"), pytest.raises(LockHeld):
        reconcile(world.fleet(), world.providers(), account="the account")

    assert world.sandbox.requests()["total"] == before
    assert sender_count(world) == 0
