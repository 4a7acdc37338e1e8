"""The Fleet page's rows: the store's figures per client, its sender and its sync status from
the latest drift check, formatted once for the page and for the JSON it polls."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from horizon.config.fleet import Fleet
from horizon.config.prices import PriceTable
from horizon.panel import display
from horizon.queries.panel import fleet_rows, problem_key, problems
from horizon.store.store import Store

if TYPE_CHECKING:  # the checker runs beside the app; only its type is needed here
    from horizon.ops.drift import DriftReport


def fleet_view(
    store: Store, fleet: Fleet, prices: PriceTable, report: DriftReport | None, now: float
) -> dict:
    """Every client's row, problems first, and when the drift check last ran."""
    rows = [_row(row, report) for row in fleet_rows(store, fleet, now, prices)]
    rows.sort(key=lambda row: problem_key(row, row["sender_status"], row["sync_known"]))
    return {
        "clients": rows,
        "drift": {
            "checked_at": report.checked_at if report else None,
            "checked": display.when(report.checked_at) if report else "not yet",
            "error": report.error if report else None,
        },
        "now": now,
    }


def _row(row: dict, report: DriftReport | None) -> dict[str, Any]:
    client_id = row["client"]
    drift = report.clients.get(client_id) if report else None
    sync = drift.status if drift else "Unknown"
    fields = list(drift.fields) if drift else []
    sender = drift.sender_status if drift else None
    burn = row.get("budget_used")
    failures = row.get("failures_24h") or 0
    found = problems(row, sender, drift.status if drift else None)
    return {
        **row,
        "sender_status": sender,
        "sync": sync,
        "sync_known": drift.status if drift else None,
        "sync_fields": fields,
        "problems": len(found),
        "problem_list": found,
        "display": {
            "name": row["name"],
            "number": row["number"],
            "channel": row["channel"],
            "enabled": display.yes_no(row.get("enabled")),
            "sender": sender or display.DASH,
            "sync": _sync_text(sync, fields),
            "today": display.count(row.get("messages_today")),
            "p95": display.millis(row.get("p95_ms_24h")),
            "cost": display.usd(row.get("cost_usd")),
            "budget": display.usd(row.get("budget_usd")),
            "burn": display.percent(burn),
            "failures": display.count(failures),
        },
    }


def _sync_text(status: str, fields: list[str]) -> str:
    label = {"OutOfSync": "Out of sync", "NotManaged": "Not managed"}.get(status, status)
    return f"{label}: {', '.join(fields)}" if fields else label
