"""The plan (and apply report) as stable JSON for CI; README.md ("JSON plan") documents the schema.

Bump FORMAT_VERSION's major number on any change a consumer could trip on; adding keys
is not such a change.
"""

from __future__ import annotations

import json
from typing import Any

from horizon import __version__
from horizon.reconcile.apply import ApplyReport, Outcome
from horizon.reconcile.display import explanation, field_source
from horizon.reconcile.redact import redact
from horizon.reconcile.resources import Action, Change, FieldChange, Plan

FORMAT_VERSION = "1.0"


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    return value


def _field_json(change: Change, field: FieldChange) -> dict[str, Any]:
    """One field's change; `source` only where the value stands for a local file."""
    entry = {"path": list(field.path), "before": _clean(field.before), "after": _clean(field.after)}
    source = field_source(change, field.path)
    if source:
        entry["source"] = _clean(dict(source))
    return entry


def change_json(change: Change) -> dict[str, Any]:
    return {
        "action": change.action.value,
        "kind": change.kind,
        "key": change.key,
        "client": change.client,
        "remote_id": change.before.remote_id if change.before else None,
        "fields": [_field_json(change, f) for f in change.fields],
        "status": change.before.status if change.before else None,
        "notice": redact(change.notice) if change.notice else None,
        "message": redact(explanation(change) or "") or None,
        "problem": redact(change.problem) if change.problem else None,
    }


def plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "horizon_version": __version__,
        "prune": plan.prune,
        "deleting": list(plan.deleting),
        "scope": list(plan.scope) if plan.scope else None,
        "in_sync": plan.in_sync,
        "summary": {action.value: plan.count(action) for action in Action},
        "problems": len(plan.problems),
        "changes": [change_json(change) for change in plan.changes],
    }


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    change, failure, applied = outcome.change, outcome.failure, outcome.applied
    return {
        "action": change.action.value,
        "kind": change.kind,
        "key": change.key,
        "client": change.client,
        "ok": outcome.ok,
        "remote_id": applied.remote_id if applied else None,
        "status": applied.status if applied else None,
        "notice": redact(applied.notice) if applied and applied.notice else None,
        "error": None
        if failure is None
        else {
            "vendor": failure.vendor,
            "status": failure.status,
            "code": failure.code,
            "message": failure.message,
        },
        "seconds": round(outcome.seconds, 3),
    }


def report_json(report: ApplyReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "applied": len(report.succeeded),
        "failed": len(report.failed),
        "seconds": round(report.seconds, 3),
        "outcomes": [outcome_json(outcome) for outcome in report.outcomes],
    }


def render_json(plan: Plan, report: ApplyReport | None = None) -> str:
    """One JSON document: the plan, and under `apply` what applying it did (when it ran)."""
    document = plan_json(plan)
    if report is not None:
        document["apply"] = report_json(report)
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False)
