"""Compute the plan: desired resources (from the Fleet) against observed ones (bulk listings).

`diff` is a pure function of two lists of resources; `plan_fleet` gathers those lists from
the providers (observing them concurrently) and calls it. Nothing here changes anything.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from horizon.config.fleet import Fleet
from horizon.reconcile.fields import created_fields, deleted_fields, field_changes
from horizon.reconcile.provider import Provider
from horizon.reconcile.resources import Action, Change, Plan, PruneRule, Resource

Key = tuple[str, str]
NO_RULE = PruneRule()


def diff(
    desired: Iterable[Resource],
    observed: Iterable[Resource],
    *,
    prune: bool = False,
    scope: Collection[str] | None = None,
    known_clients: Collection[str] = (),
    uncreatable: Mapping[str, str] | None = None,
    prune_rules: Mapping[str, PruneRule] | None = None,
    deleting: Collection[str] = (),
) -> Plan:
    """The plan that makes `observed` match `desired`.

    Only resources carrying Horizon's mark are ever updated, detached or deleted; a marked
    resource no desired one matches is pruned with `prune` (detached where its kind's
    `prune_rules` can keep it, unless its kind is in `deleting`; deleted otherwise), and
    reported as orphaned without. `scope` limits the plan to those client ids.
    `uncreatable` maps a kind Horizon cannot create to the hint shown when one is missing.
    """
    uncreatable = uncreatable or {}
    pruning = _Pruning(prune, prune_rules or {}, frozenset(deleting))
    wanted = {(r.kind, r.key): r for r in desired if scope is None or r.owner in scope}
    live: dict[Key, list[Resource]] = {}
    for resource in observed:
        live.setdefault((resource.kind, resource.key), []).append(resource)
    changes: list[Change | None] = []
    for key, target in wanted.items():
        found = live.pop(key, [])
        current = next((r for r in found if r.owner == target.owner), found[0] if found else None)
        changes.append(_change_for(target, current, uncreatable))
        leftovers = [r for r in found if r is not current]
        changes.extend(_leftover(r, pruning, known_clients, duplicate=True) for r in leftovers)
    for found in live.values():
        for resource in found:
            if resource.owner and (scope is None or resource.owner in scope):
                changes.append(_leftover(resource, pruning, known_clients, duplicate=False))
    kept = sorted(
        (change for change in changes if change is not None),
        key=lambda c: (c.client or "", c.kind, c.key, c.action.value),
    )
    return Plan(
        tuple(kept),
        prune=prune,
        scope=tuple(sorted(scope)) if scope else None,
        deleting=tuple(sorted(deleting)) if prune else (),
    )


def _change_for(
    target: Resource, current: Resource | None, uncreatable: Mapping[str, str]
) -> Change:
    base = {"kind": target.kind, "key": target.key, "client": target.owner, "after": target}
    if current is None and target.kind in uncreatable:
        reason = "does not exist in the account and cannot be created by Horizon"
        return Change(Action.MISSING, reason=reason, hint=uncreatable[target.kind], **base)
    if current is None:
        return Change(Action.CREATE, fields=created_fields(target.fields), **base)
    if current.owner != target.owner:
        return Change(
            Action.CONFLICT,
            before=current,
            reason=_not_ours(current),
            hint=f"run `horizon adopt {target.owner}` to let Horizon manage it",
            **base,
        )
    fields = field_changes(current.fields, target.fields)
    action = Action.UPDATE if fields else Action.NOOP
    return Change(action, fields=fields, before=current, **base)


def _not_ours(resource: Resource) -> str:
    if resource.owner:
        return f"managed by Horizon for client {resource.owner!r}, not this one"
    label = f" (friendly_name {resource.label!r})" if resource.label else ""
    return f"exists but is not managed by Horizon{label}"


@dataclass(frozen=True)
class _Pruning:
    """What --prune does to each kind: nothing (no prune), detach it, or delete it."""

    prune: bool
    rules: Mapping[str, PruneRule]
    deleting: frozenset[str]

    def detaches(self, kind: str) -> bool:
        return self.rules.get(kind, NO_RULE).detached is not None and kind not in self.deleting


def _leftover(
    resource: Resource, pruning: _Pruning, known_clients: Collection[str], *, duplicate: bool
) -> Change | None:
    """A resource no desired one claims: pruned with --prune when marked, else left alone."""
    if not resource.owner:
        return None  # someone else's: never touched, not Horizon's to report
    if duplicate:
        reason = "a second copy of a resource Horizon manages"
    elif resource.owner in known_clients:
        reason = f"client {resource.owner!r} no longer asks for it"
    else:
        reason = f"no client file for {resource.owner!r}"
    rule, detaches = pruning.rules.get(resource.kind, NO_RULE), pruning.detaches(resource.kind)
    base = {"kind": resource.kind, "key": resource.key, "client": resource.owner}
    base |= {"before": resource, "reason": reason}
    if not pruning.prune:
        hint = f"orphaned (would be {'detached' if detaches else 'deleted'} with --prune)"
        return Change(Action.ORPHAN, fields=deleted_fields(resource.fields), hint=hint, **base)
    if detaches and rule.detached is not None:
        after = rule.detached(resource)
        fields = field_changes(resource.fields, after.fields)
        return Change(Action.DETACH, fields=fields, after=after, hint=rule.hint or None, **base)
    fields = deleted_fields(resource.fields)
    return Change(Action.DELETE, fields=fields, hint=rule.deletion_cost or None, **base)


def observe_all(
    providers: Sequence[Provider], desired: Mapping[str, list[Resource]]
) -> list[Resource]:
    """Every provider's bulk listing, run concurrently (one listing per vendor API)."""
    with ThreadPoolExecutor(max_workers=max(1, len(providers))) as pool:
        futures = [pool.submit(p.observe, desired.get(p.kind, [])) for p in providers]
        return [resource for future in futures for resource in future.result()]


def plan_fleet(
    fleet: Fleet,
    providers: Sequence[Provider],
    *,
    prune: bool = False,
    deleting: Collection[str] = (),
    clients: Collection[str] | None = None,
) -> Plan:
    """Observe the live world and plan it towards `fleet` (limited to `clients` if given).

    With `prune`, kinds in `deleting` are deleted even where --prune would detach them.
    Raises VendorError when a listing fails after retries: no plan beats a wrong one.
    """
    scope = set(clients) if clients else None
    desired: dict[str, list[Resource]] = {}
    for provider in providers:
        made = provider.desired(fleet)
        desired[provider.kind] = [r for r in made if scope is None or r.owner in scope]
    observed = observe_all(providers, desired)
    return diff(
        [resource for resources in desired.values() for resource in resources],
        observed,
        prune=prune,
        scope=scope,
        known_clients={client.id for client in fleet},
        uncreatable={p.kind: p.missing_hint for p in providers if not p.creatable},
        prune_rules={p.kind: p.prune_rule for p in providers},
        deleting=deleting,
    )
