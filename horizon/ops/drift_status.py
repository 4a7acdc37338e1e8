"""A plan's changes for one client, as the panel shows them: its sync status with the fields
that differ, its sender's status, and its knowledge files with their index status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from horizon.config.client import Client
from horizon.reconcile.provider import Provider
from horizon.reconcile.resources import Action, Change, Plan
from horizon.vendors.retry import openai_records

SYNCED, OUT_OF_SYNC, MISSING, NOT_MANAGED = "Synced", "OutOfSync", "Missing", "NotManaged"
SENDER_KINDS = ("whatsapp_sender", "sms_number")
KNOWLEDGE = "knowledge"
PAGE_LIMIT = 100


@dataclass(frozen=True)
class ClientDrift:
    """One client in a check. `fields` names what differs (`kind.path`) for OutOfSync, what
    is to create for Missing, what is not Horizon's for NotManaged. `knowledge` lists its
    files as {name, size, status}: completed, in_progress, failed (with `error`), missing
    (not uploaded yet) or changed (uploaded, edited since). `notices` are vendor conditions
    worth knowing (a sender not yet online, a display name declined)."""

    status: str
    fields: list[str] = field(default_factory=list)
    sender_status: str | None = None
    knowledge: list[dict] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def with_knowledge(self, knowledge: list[dict]) -> ClientDrift:
        return replace(self, knowledge=knowledge)


def client_drift(client: Client, changes: Sequence[Change]) -> ClientDrift:
    """The status the plan's `changes` for `client` add up to; the worst one wins:
    NotManaged, then Missing, then OutOfSync."""
    by_action: dict[Action, list[Change]] = {}
    for change in changes:
        by_action.setdefault(change.action, []).append(change)
    not_ours = by_action.get(Action.CONFLICT, [])
    to_create = by_action.get(Action.CREATE, []) + by_action.get(Action.MISSING, [])
    if not_ours:
        status, fields = NOT_MANAGED, [change.address for change in not_ours]
    elif to_create:
        status, fields = MISSING, [change.address for change in to_create]
    else:
        fields = [
            f"{change.kind}.{'.'.join(fc.path)}"
            for change in by_action.get(Action.UPDATE, [])
            for fc in change.fields
        ]
        fields += [f"{change.address} (orphaned)" for change in by_action.get(Action.ORPHAN, [])]
        status = OUT_OF_SYNC if fields else SYNCED
    notices = [text for change in changes for text in (change.notice, change.problem) if text]
    return ClientDrift(status, fields, _sender_status(changes), notices=notices)


def _sender_status(changes: Sequence[Change]) -> str | None:
    """The observed sender's (or SMS number's) status; MISSING when it does not exist."""
    for change in changes:
        if change.kind in SENDER_KINDS and change.action is not Action.ORPHAN:
            if change.before is None:
                return "MISSING"
            return change.before.status or ("ONLINE" if change.kind == "sms_number" else None)
    return None


def knowledge_status(
    client: Client, changes: Sequence[Change], providers: Sequence[Provider]
) -> list[dict]:
    """Each knowledge file of `client`: its size on disk and where OpenAI has it.

    The plan's store listing proves a store in sync without its files; only a store that
    reports files in progress or failed is listed, for which file is which.
    """
    change = next((c for c in changes if c.kind == KNOWLEDGE and c.after is not None), None)
    if change is None or not client.assistant.knowledge:
        return []
    wanted = change.after.fields.get("files", {})
    sources = change.after.detail.get("sources", {})
    live = change.before
    have = dict(live.fields.get("files", {})) if live is not None else {}
    per_file: dict[str, tuple[str, str | None]] = {}
    if live is not None and live.notice and live.remote_id:
        per_file = _listed(providers, live.remote_id)
    files = []
    for name, sha in sorted(wanted.items()):
        size = sources.get(("files", name), {}).get("bytes")
        if name not in have:
            status, error = "missing", None
        elif have[name] != sha:
            status, error = "changed", None
        else:
            status, error = per_file.get(name, ("completed", None))
        entry = {"name": name, "size": size, "status": status}
        files.append(entry | ({"error": error} if error else {}))
    return files


def _listed(providers: Sequence[Provider], store_id: str) -> dict[str, tuple[str, str | None]]:
    """A store's files by path: OpenAI's status and, for a failed one, its last error."""
    knowledge: Any = next((p for p in providers if p.kind == KNOWLEDGE), None)
    if knowledge is None:
        return {}
    files = knowledge.openai.vector_stores.files
    listing = lambda: files.list(store_id, limit=PAGE_LIMIT)  # noqa: E731
    found: dict[str, tuple[str, str | None]] = {}
    for attached in openai_records(listing, knowledge.policy):
        path = (attached.attributes or {}).get("path")
        if path and str(path) not in found:
            error = attached.last_error
            why = f"{error.code}: {error.message}" if error else None
            found[str(path)] = (attached.status, why)
    return found


def orphans_of(plan: Plan, client_ids: set[str]) -> list[dict]:
    """Resources marked for a client that has no file: not clients, shown apart."""
    return [
        {"kind": c.kind, "key": c.key, "client": c.client, "reason": c.reason}
        for c in plan.orphans
        if c.client not in client_ids
    ]
