"""Compute the plan: desired resources (from the Fleet) against observed ones (bulk listings).

`diff` is a pure function of two lists of resources; `plan_fleet` gathers those lists from
the providers (observing them concurrently) and calls it. Nothing here changes anything.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from horizon.config.fleet import Fleet
from horizon.reconcile.fields import created_fields, deleted_fields, field_changes
from horizon.reconcile.provider import Provider
from horizon.reconcile.resources import Action, Change, Plan, Resource

Key = tuple[str, str]


def diff(
    desired: Iterable[Resource],
    observed: Iterable[Resource],
    *,
    prune: bool = False,
    scope: Collection[str] | None = None,
    known_clients: Collection[str] = (),
    uncreatable: Mapping[str, str] | None = None,
) -> Plan:
    """The plan that makes `observed` match `desired`.

    Only resources carrying Horizon's mark are ever updated or deleted; a marked resource no
    desired one matches is deleted with `prune`, otherwise reported as orphaned. `scope`
    limits the plan to those client ids. `uncreatable` maps a kind Horizon cannot create to
    the hint shown when one is missing.
    """
    uncreatable = uncreatable or {}
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
        changes.extend(_leftover(r, prune, known_clients, duplicate=True) for r in leftovers)
    for found in live.values():
        for resource in found:
            if resource.owner and (scope is None or resource.owner in scope):
                changes.append(_leftover(resource, prune, known_clients, duplicate=False))
    kept = sorted(
        (change for change in changes if change is not None),
        key=lambda c: (c.client or "", c.kind, c.key, c.action.value),
    )
    return Plan(tuple(kept), prune=prune, scope=tuple(sorted(scope)) if scope else None)


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


def _leftover(
    resource: Resource, prune: bool, known_clients: Collection[str], *, duplicate: bool
) -> Change | None:
    """A resource no desired one claims: deleted with prune when marked, else left alone."""
    if not resource.owner:
        return None  # someone else's: never touched, not Horizon's to report
    if duplicate:
        reason = "a second copy of a resource Horizon manages"
    elif resource.owner in known_clients:
        reason = f"client {resource.owner!r} no longer asks for it"
    else:
        reason = f"no client file for {resource.owner!r}"
    action = Action.DELETE if prune else Action.ORPHAN
    return Change(
        action,
        kind=resource.kind,
        key=resource.key,
        client=resource.owner,
        fields=deleted_fields(resource.fields),
        before=resource,
        reason=reason,
        hint=None if prune else "orphaned (would be deleted with --prune)",
    )


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
    clients: Collection[str] | None = None,
) -> Plan:
    """Observe the live world and plan it towards `fleet` (limited to `clients` if given).

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
    )
