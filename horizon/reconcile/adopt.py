"""Adoption: write Horizon's ownership mark on an existing sender or number, and nothing else.

Like `terraform import`, adopting changes no setting: the next `horizon reconcile` shows
(and applies) the remaining differences as ordinary updates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from horizon.config.fleet import Fleet
from horizon.reconcile.fields import field_changes
from horizon.reconcile.plan import plan_fleet
from horizon.reconcile.provider import Provider
from horizon.reconcile.resources import Action, Change, FieldChange, Plan

# The Twilio resources carry the mark in friendly_name; only they can exist unmarked.
MARK_FIELD = ("friendly_name",)


@dataclass(frozen=True)
class Adoption:
    """The mark-only updates to make, what reconcile will change after them, or why not."""

    client: str
    changes: tuple[Change, ...] = ()
    afterwards: tuple[Change, ...] = ()
    problem: str | None = None

    @property
    def plan(self) -> Plan:
        """The mark-only updates as a plan `apply_plan` can carry out."""
        return Plan(self.changes, scope=(self.client,))


def plan_adoption(fleet: Fleet, client_id: str, providers: Sequence[Provider]) -> Adoption:
    """Find the existing resources client `client_id` asks for that carry no (or another) mark."""
    if client_id not in fleet.by_id:
        return Adoption(client_id, problem=f"no client file for {client_id!r}")
    plan = plan_fleet(fleet, providers, clients=[client_id])
    conflicts = [change for change in plan.changes if change.action is Action.CONFLICT]
    if not conflicts:
        managed = [c for c in plan.changes if c.action in (Action.NOOP, Action.UPDATE)]
        if managed:
            problem = f"{client_id!r} is already managed by Horizon; nothing to adopt"
        else:
            problem = f"no existing sender or number for {client_id!r} to adopt"
        return Adoption(client_id, problem=problem)
    changes, afterwards = [], []
    for conflict in conflicts:
        marked = conflict.after.fields[MARK_FIELD[0]]
        field = FieldChange(MARK_FIELD, conflict.before.label, marked)
        changes.append(_update(conflict, (field,)))
        adopted = {**conflict.before.fields, MARK_FIELD[0]: marked}
        rest = field_changes(adopted, conflict.after.fields)
        if rest:
            afterwards.append(_update(conflict, rest))
    return Adoption(client_id, tuple(changes), tuple(afterwards))


def _update(conflict: Change, fields: tuple[FieldChange, ...]) -> Change:
    return Change(
        Action.UPDATE,
        kind=conflict.kind,
        key=conflict.key,
        client=conflict.client,
        fields=fields,
        before=conflict.before,
        after=conflict.after,
    )
