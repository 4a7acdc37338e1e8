"""The plan's plain data: remote resources, field-level differences, changes and the plan itself.

Nothing here talks to a vendor; providers build `Resource`s, `plan.py` turns them into a
`Plan`, and renderers and `apply.py` consume it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

MARK_PREFIX = "horizon:"


def mark(client_id: str) -> str:
    """The ownership mark Horizon writes on a Twilio sender or number (its friendly_name)."""
    return f"{MARK_PREFIX}{client_id}"


def owner_of(label: str | None) -> str | None:
    """The client id in an ownership mark, or None for a label Horizon did not write."""
    if label and label.startswith(MARK_PREFIX) and len(label) > len(MARK_PREFIX):
        return label[len(MARK_PREFIX) :]
    return None


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Resource:
    """One remote resource, desired (from the Fleet) or observed (from a bulk listing).

    `fields` holds the managed fields only, already normalised by the provider, so two
    resources in sync have equal `fields`. `owner` is the client id of Horizon's ownership
    mark (for a desired resource: the client it is for); None when unmarked. `label` is how
    the resource names itself remotely (a friendly_name), shown when it is not ours.
    `notice` is a vendor condition worth knowing (a sender not yet ONLINE); `problem` one
    that only the operator can resolve (a display name WhatsApp declined).
    `detail` carries provider data the diff ignores (remote file ids, local paths).
    """

    kind: str
    key: str
    owner: str | None
    fields: Mapping[str, Any] = field(default_factory=dict)
    remote_id: str | None = None
    label: str | None = None
    status: str | None = None
    notice: str | None = None
    problem: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", _frozen(self.fields))
        object.__setattr__(self, "detail", _frozen(self.detail))

    @property
    def address(self) -> str:
        """Terraform-style address: `whatsapp_sender "whatsapp:+34910000101"`."""
        return f'{self.kind} "{self.key}"'


class Action(StrEnum):
    """What the plan does with one resource.

    CREATE, UPDATE, DELETE and DETACH are applied; DETACH is how --prune lets go of a
    resource it keeps (its webhooks and mark cleared). ORPHAN is a managed resource whose
    client file is gone (pruned only with --prune). CONFLICT is an existing resource Horizon
    does not own; MISSING is one Horizon cannot create (a phone number). Both need the
    operator.
    """

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    DETACH = "detach"
    NOOP = "no-op"
    ORPHAN = "orphan"
    CONFLICT = "conflict"
    MISSING = "missing"

    @property
    def applied(self) -> bool:
        return self in (Action.CREATE, Action.UPDATE, Action.DELETE, Action.DETACH)

    @property
    def problem(self) -> bool:
        return self in (Action.CONFLICT, Action.MISSING)


@dataclass(frozen=True)
class FieldChange:
    """One managed field's value before and after; None stands for absent."""

    path: tuple[str, ...]
    before: Any
    after: Any


@dataclass(frozen=True)
class Change:
    """The plan for one resource: its action, field-level differences and what to tell people.

    `before` is the observed resource (None for a create), `after` the desired one (None
    for a delete or an orphan; for a detach, the resource as Horizon leaves it). `reason`
    explains an ORPHAN, CONFLICT, MISSING or pruned resource; `hint` says what the operator
    can do about it, or what a deletion costs.
    """

    action: Action
    kind: str
    key: str
    client: str | None
    fields: tuple[FieldChange, ...] = ()
    before: Resource | None = None
    after: Resource | None = None
    reason: str | None = None
    hint: str | None = None

    @property
    def address(self) -> str:
        return f'{self.kind} "{self.key}"'

    @property
    def notice(self) -> str | None:
        """A remote condition the operator should know about (a sender not yet ONLINE)."""
        return self.before.notice if self.before is not None else None

    @property
    def problem(self) -> str | None:
        """A remote condition only the operator can resolve (a declined display name)."""
        return self.before.problem if self.before is not None else None

    @property
    def needs_operator(self) -> bool:
        """Blocked (a conflict, a missing number) or stuck at the vendor: marked `!`."""
        return self.action.problem or self.problem is not None


@dataclass(frozen=True)
class PruneRule:
    """How --prune lets go of a kind that it can keep rather than delete.

    `detached` gives the resource as Horizon leaves it (its webhooks and mark cleared);
    `hint` says what detaching keeps, and `deletion_cost` what deleting one instead costs.
    """

    detached: Callable[[Resource], Resource] | None = None
    hint: str = ""
    deletion_cost: str = ""


@dataclass(frozen=True)
class Plan:
    """Every change, sorted by client, kind and key; computed without side effects."""

    changes: tuple[Change, ...] = ()
    prune: bool = False
    scope: tuple[str, ...] | None = None
    # Kinds --prune deletes though it would detach them (`--delete-senders`).
    deleting: tuple[str, ...] = ()

    def count(self, action: Action) -> int:
        return sum(1 for change in self.changes if change.action is action)

    @property
    def to_apply(self) -> tuple[Change, ...]:
        return tuple(change for change in self.changes if change.action.applied)

    @property
    def problems(self) -> tuple[Change, ...]:
        return tuple(change for change in self.changes if change.needs_operator)

    @property
    def orphans(self) -> tuple[Change, ...]:
        return tuple(change for change in self.changes if change.action is Action.ORPHAN)

    @property
    def notices(self) -> tuple[Change, ...]:
        return tuple(change for change in self.changes if change.notice)

    @property
    def in_sync(self) -> bool:
        """Nothing to apply, nothing orphaned and nothing blocked: the world matches git."""
        return not self.to_apply and not self.orphans and not self.problems

    def by_client(self) -> dict[str, list[Change]]:
        """Changes grouped by client id, in plan order (unowned resources under '')."""
        groups: dict[str, list[Change]] = {}
        for change in self.changes:
            groups.setdefault(change.client or "", []).append(change)
        return groups
