"""The provider protocol reconcile drives, beside the plain data it speaks (`resources.py`).

A provider owns one kind of remote resource. It turns the Fleet into desired resources
(pure), observes the live ones with bulk listings, and applies one change at a time.
Adding a vendor resource is one module in `horizon.providers` implementing `Provider`,
plus a line in its registry; the engine never imports a provider.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from horizon.config.fleet import Fleet
from horizon.reconcile.resources import Action, Change, PruneRule, Resource


@dataclass(frozen=True)
class Applied:
    """What a vendor answered to an applied change: its id, status and anything to act on."""

    remote_id: str | None = None
    status: str | None = None
    notice: str | None = None


class Provider(Protocol):
    """One kind of managed resource at one vendor.

    `creatable` is False when a missing resource cannot be made by Horizon (a phone number
    must be bought or ported); the plan then reports it with `missing_hint`. `prune_rule`
    says how --prune lets go of one: detached (kept, Horizon's settings cleared) or deleted.
    """

    kind: str
    creatable: bool
    missing_hint: str
    prune_rule: PruneRule

    def desired(self, fleet: Fleet) -> list[Resource]:
        """The resources `fleet` asks for; pure apart from reading the clients' local files."""
        ...

    def observe(self, desired: Sequence[Resource]) -> list[Resource]:
        """Every live resource of this kind, from paginated list calls.

        `desired` lets a provider read detail only where the listing shows a difference;
        nothing is read per resource when the listing proves a resource in sync.
        """
        ...

    def apply(self, change: Change) -> Applied:
        """Carry out one CREATE, UPDATE, DELETE or DETACH; raise VendorError when refused."""
        ...


class ByAction:
    """`apply` dispatched to `create`, `update`, `delete` and `detach`, which a provider defines.

    A provider without one of them (numbers cannot be created) refuses that action. By
    default --prune deletes.
    """

    prune_rule = PruneRule()

    def apply(self, change: Change) -> Applied:
        if change.action is Action.CREATE and change.after is not None:
            return self.create(change.after)
        if change.action is Action.UPDATE:
            return self.update(change)
        if change.action is Action.DELETE and change.before is not None:
            return self.delete(change)
        if change.action is Action.DETACH and change.before is not None:
            return self.detach(change)
        raise ValueError(f"cannot apply {change.action.value} to {change.address}")

    def create(self, resource: Resource) -> Applied:
        raise ValueError(f"{resource.address} cannot be created by Horizon")

    def update(self, change: Change) -> Applied:
        raise ValueError(f"cannot update {change.address}")

    def delete(self, change: Change) -> Applied:
        raise ValueError(f"cannot delete {change.address}")

    def detach(self, change: Change) -> Applied:
        raise ValueError(f"cannot detach {change.address}")
