"""Apply: bounded concurrency, failures kept to their own change, convergence under faults."""

from __future__ import annotations

import threading
import time

from horizon.reconcile.apply import apply_plan
from horizon.reconcile.plan import plan_fleet
from horizon.reconcile.provider import Applied
from horizon.reconcile.resources import Action, Change, Plan
from horizon.vendors.errors import VendorError


class CountingProvider:
    """A stand-in provider for the engine alone: records how many changes run at once."""

    kind = "thing"
    creatable = True
    missing_hint = ""

    def __init__(self, failing: set[str] = frozenset(), seconds: float = 0.02) -> None:
        self.failing, self.seconds = failing, seconds
        self.running = self.most = 0
        self.lock = threading.Lock()

    def apply(self, change: Change) -> Applied:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(self.seconds)
        with self.lock:
            self.running -= 1
        if change.key in self.failing:
            raise VendorError("twilio", "Invalid profile.vertical", status=400, code=20001)
        return Applied(remote_id=f"id-{change.key}")


def creates(count: int) -> Plan:
    return Plan(tuple(Change(Action.CREATE, "thing", f"k{i:02}", f"c{i:02}") for i in range(count)))


def test_changes_run_concurrently_up_to_the_bound():
    provider = CountingProvider()

    report = apply_plan(creates(20), [provider], parallelism=4)

    assert report.ok and len(report.succeeded) == 20
    assert provider.most == 4


def test_one_failure_does_not_stop_the_others_and_keeps_the_vendor_code():
    provider = CountingProvider(failing={"k03"})

    report = apply_plan(creates(6), [provider], parallelism=2)

    assert not report.ok
    assert [outcome.change.key for outcome in report.succeeded] == [
        "k00",
        "k01",
        "k02",
        "k04",
        "k05",
    ]
    (failed,) = report.failed
    assert str(failed.failure) == "twilio HTTP 400 (code 20001): Invalid profile.vertical"


def test_secrets_are_masked_in_failure_messages():
    class Leaky(CountingProvider):
        def apply(self, change: Change) -> Applied:
            raise VendorError("openai", "Incorrect API key provided: sk-live-123456", status=401)

    report = apply_plan(creates(1), [Leaky()], secrets=["sk-live-123456"])

    assert report.failed[0].failure.message == "Incorrect API key provided: ***"


def test_an_unexpected_error_is_reported_and_the_other_changes_still_apply():
    class Buggy(CountingProvider):
        def apply(self, change: Change) -> Applied:
            if change.key == "k01":
                raise ValueError("profile has no name")
            return super().apply(change)

    report = apply_plan(creates(3), [Buggy()], parallelism=1)

    assert [outcome.change.key for outcome in report.succeeded] == ["k00", "k02"]
    (failed,) = report.failed
    assert failed.failure.vendor == "horizon"
    assert "ValueError: profile has no name" in failed.failure.message


def test_only_create_update_delete_and_detach_are_applied():
    provider = CountingProvider()
    plan = Plan(tuple(Change(action, "thing", action.value, "c") for action in Action))

    report = apply_plan(plan, [provider])

    assert sorted(outcome.change.action.value for outcome in report.outcomes) == [
        "create",
        "delete",
        "detach",
        "update",
    ]


def test_apply_converges_with_30_percent_injected_429_and_503(world):
    fleet, providers = world.fleet(), world.providers()
    rounds = []
    for status in (429, 503):
        world.sandbox.faults(fail_rate=0.3, status=status, retry_after=0, seed=7)
        if status == 503:
            world.edit("farmacia-sol", "abierta 365 días", "abierta 24 horas")
            fleet = world.fleet()
        for _ in range(3):  # a re-run finishes whatever a run could not
            report = apply_plan(plan_fleet(fleet, providers), providers)
            rounds.append((status, len(report.succeeded), len(report.failed)))
            if report.ok:
                break
    world.sandbox.faults(fail_rate=0.0)

    assert plan_fleet(fleet, providers).in_sync, rounds
    assert world.sandbox.requests()["total"] > 0
