"""Plan, confirm, lock and apply in one call: what `horizon reconcile`, the demo and a
Python caller share, so the order of those steps is written once."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass

from horizon.config.fleet import Fleet
from horizon.reconcile.apply import DEFAULT_PARALLELISM, ApplyReport, Outcome, apply_plan
from horizon.reconcile.lock import apply_lock
from horizon.reconcile.plan import plan_fleet
from horizon.reconcile.provider import Provider
from horizon.reconcile.resources import Plan


@dataclass(frozen=True)
class Reconciliation:
    """The plan, and what applying it did (None: nothing to apply, or not confirmed)."""

    plan: Plan
    report: ApplyReport | None = None

    @property
    def ok(self) -> bool:
        """Nothing failed to apply and nothing waits on the operator."""
        return (self.report is None or self.report.ok) and not self.plan.problems


def reconcile(
    fleet: Fleet,
    providers: Sequence[Provider],
    *,
    clients: Collection[str] | None = None,
    prune: bool = False,
    deleting: Collection[str] = (),
    parallelism: int = DEFAULT_PARALLELISM,
    secrets: Iterable[str] = (),
    account: str | None = None,
    database_url: str | None = None,
    on_plan: Callable[[Plan], None] | None = None,
    confirm: Callable[[Plan], bool] | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> Reconciliation:
    """Observe, plan towards `fleet`, and apply what the plan changes.

    `prune` lets go of managed resources no client asks for; kinds in `deleting` are then
    deleted even where --prune would detach them.
    With `account`, the whole run holds that account's apply lock (LockHeld at once if
    another run has it): in PostgreSQL when `database_url` names it, so runs on different
    machines exclude each other, else in a lock file on this machine (LockUnavailable
    when the database cannot be reached). `on_plan` sees every plan; `confirm` is asked
    only when there is something to apply, and a False leaves everything as it is.
    Raises VendorError when a listing fails: no plan beats a wrong one.
    """
    lock = apply_lock(account, database_url=database_url) if account else nullcontext()
    with lock:
        plan = plan_fleet(fleet, providers, prune=prune, deleting=deleting, clients=clients)
        if on_plan is not None:
            on_plan(plan)
        if not plan.to_apply or (confirm is not None and not confirm(plan)):
            return Reconciliation(plan)
        report = apply_plan(
            plan, providers, parallelism=parallelism, secrets=secrets, on_outcome=on_outcome
        )
        return Reconciliation(plan, report)
