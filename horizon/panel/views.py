"""What each page shows, as plain data: the template's values, and the JSON the page polls
(`fields` by name and `tables` of rows, which the page's script puts in place).

Each view runs the store's queries synchronously; the app calls it on a worker thread.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from horizon.config.client import Client
from horizon.config.committed import committed_file
from horizon.config.fleet import Fleet
from horizon.config.prices import PriceTable
from horizon.panel import display
from horizon.panel.fleet_source import FleetSource
from horizon.panel.fleet_view import fleet_view
from horizon.queries.panel import client_series, conversations, thread
from horizon.queries.system import system_status
from horizon.queries.threads import SearchError
from horizon.store.store import Store

TEXT_SEARCH_DEFAULT_S = 7 * 86400  # how far back a text search of every client looks

if TYPE_CHECKING:  # the checker runs beside the app; only its type is needed here
    from horizon.ops.drift import DriftChecker, DriftReport

SEARCH_FIELDS = ("client", "user", "text", "since", "until")


class NotFound(LookupError):
    """The page names a client or conversation that does not exist."""


@dataclass
class Views:
    """The panel's sources: the store, the client files, the prices and the drift checker."""

    store: Store
    fleet: FleetSource
    prices: PriceTable
    drift: DriftChecker | None

    def report(self) -> DriftReport | None:
        return self.drift.latest() if self.drift is not None else None

    def fleet_page(self) -> dict[str, Any]:
        view = fleet_view(self.store, self.fleet.current(), self.prices, self.report(), time.time())
        drift = view["drift"]
        view["fields"] = {
            "count": f"{len(view['clients'])} clients",
            "drift_checked": drift["checked"],
            "drift_error": drift["error"] or "",
        }
        return view

    def client_page(self, client_id: str) -> dict[str, Any]:
        client = self._client(client_id)
        now = time.time()
        series = client_series(self.store, client, now, self.prices)
        report = self.report()
        row = fleet_view(self.store, Fleet((client,)), self.prices, report, now)["clients"][0]
        drift = report.clients.get(client.id) if report else None
        knowledge = [
            [item["name"], display.count(item.get("size")), item.get("status") or display.DASH]
            for item in (drift.knowledge if drift else [])
        ]
        failures = [[f["reason"], display.count(f["count"])] for f in series["failures"]]
        fields = {
            "sync": row["display"]["sync"],
            "sender": row["display"]["sender"],
            "today": row["display"]["today"],
            "month_cost": row["display"]["cost"],
            "budget": f"{row['display']['burn']} of {row['display']['budget']}",
        }
        return {
            "client": _client_facts(client),
            "drift": {"status": row["sync"], "text": fields["sync"], "sender": fields["sender"]},
            "summary": fields,
            "series": series,
            "failures": failures,
            "knowledge": knowledge,
            "config": committed_config(client),
            "fields": fields,
            "tables": {"failures": failures, "knowledge": knowledge},
        }

    def conversations_page(self, search: dict[str, str]) -> dict[str, Any]:
        fleet = self.fleet.current()
        problem, found, scope = None, [], None
        try:
            since = _day(search["since"], "From")
            if search["text"] and not (search["client"] or search["user"] or since):
                # A word no message holds would read every message of every client; so a
                # search without client, user or date looks at the last week, and says so.
                since = time.time() - TEXT_SEARCH_DEFAULT_S
                scope = (
                    f"Searched the last {TEXT_SEARCH_DEFAULT_S // 86400} days of every client; "
                    "choose a client or a From date to search further back."
                )
            found = conversations(
                self.store,
                fleet,
                client=search["client"] or None,
                user=search["user"] or None,
                text=search["text"] or None,
                since=since,
                until=_day(search["until"], "To", end=True),
            )
        except SearchError as error:
            problem = str(error)
        rows = [_conversation_row(row) for row in found]
        return {
            "search": search,
            "client_options": [{"id": c.id, "name": c.name} for c in fleet],
            "conversations": rows,
            "problem": problem,
            "scope": scope,
            "fields": {},
            "tables": {"conversations": [_conversation_cells(row) for row in rows]},
        }

    def thread_page(self, client_id: str, key: str) -> dict[str, Any]:
        client = self._client(client_id)
        # Only the opaque key names a pair here: a number in a URL would be logged everywhere.
        found = thread(self.store, client.id, key) if key.isdigit() else None
        if found is None:
            raise NotFound(f"no conversation {key} for {client_id}")
        rows = [_message_row(message, client.name, found["user"]) for message in found["messages"]]
        return {
            "client": _client_facts(client),
            "user": found["user"],
            "key": found["key"],
            "messages": rows,
            "more": found["more"],
            "fields": {},
            "tables": {"thread": [_message_cells(row) for row in rows]},
        }

    def system_page(self) -> dict[str, Any]:
        now = time.time()
        status = system_status(self.store, now)
        report = self.report()
        database = status["database"]
        facts = {
            "queue_depth": display.count(status["queue_depth"]),
            "oldest_unanswered": display.age(status["oldest_unanswered_age_s"]),
            "database": database["url"],  # the password redacted; the scheme names the dialect
            "schema_version": str(database.get("schema_version") or display.DASH),
            "config_commit": (status["config"].get("commit") or display.DASH)[:12],
            "drift_checked": _drift_checked(report, self.drift),
        }
        replicas = [_replica_cells(replica, now) for replica in status["replicas"]]
        reloads = [_reload_cells(reload) for reload in status["config"]["reloads"]]
        return {
            "facts": facts,
            "replicas": replicas,
            "reloads": reloads,
            "status": status,
            "fields": facts,
            "tables": {"replicas": replicas, "reloads": reloads},
        }

    def _client(self, client_id: str) -> Client:
        client = self.fleet.current().by_id.get(client_id)
        if client is None:
            raise NotFound(f"no client {client_id}")
        return client


def _client_facts(client: Client) -> dict[str, Any]:
    return {
        "id": client.id,
        "name": client.name,
        "number": client.number,
        "channel": client.channel,
        "enabled": client.enabled,
    }


def _drift_checked(report: DriftReport | None, drift: DriftChecker | None) -> str:
    if drift is None:
        return "drift checks are off"
    if report is None:
        return "not yet"
    text = display.when(report.checked_at)
    return f"{text} (failed: {report.error})" if report.error else text


def _day(text: str, label: str, end: bool = False) -> float | None:
    """A YYYY-MM-DD date (UTC) as epoch seconds: its start, or with `end` the next day's."""
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise SearchError(f"{label}: {text!r} is not a date (YYYY-MM-DD)") from None
    return day.timestamp() + (86400.0 if end else 0.0)


def _conversation_row(row: dict) -> dict[str, Any]:
    return {
        "key": row["key"],
        "client": row["client"],
        "client_name": row["client_name"] or row["client"],
        "user": row["user"],
        "href": f"/conversations/{row['client']}/{row['key']}",
        "text": row["last_text"],
        "when": display.when(row["last_at"]),
        "messages": display.count(row["messages"]),
    }


def _conversation_cells(row: dict) -> dict[str, Any]:
    return {
        "cells": [
            row["client_name"],
            {"text": row["user"], "href": row["href"]},
            {"text": row["text"], "className": "text"},
            row["when"],
            {"text": row["messages"], "className": "num"},
        ],
        "data": {"conversation": row["key"]},
    }


def _message_row(message: dict, client_name: str, user: str) -> dict[str, Any]:
    tokens = (message["input_tokens"], message["output_tokens"])
    status = message["status"] + (f" ({message['error']})" if message["error"] else "")
    return {
        "direction": message["direction"],
        "status": message["status"],
        "when": display.when(message["time"]),
        "who": user if message["direction"] == "inbound" else client_name,
        "text": message["text"],
        "status_text": status,
        "latency": display.millis(message["latency_ms"]),
        "tokens": display.DASH
        if tokens == (None, None)
        else f"{tokens[0] or 0} / {tokens[1] or 0}",
    }


def _message_cells(row: dict) -> dict[str, Any]:
    return {
        "cells": [
            row["when"],
            row["who"],
            {"text": row["text"], "className": "text"},
            row["status_text"],
            {"text": row["latency"], "className": "num"},
            {"text": row["tokens"], "className": "num"},
        ],
        "data": {"direction": row["direction"], "status": row["status"]},
    }


def _replica_cells(replica: dict, now: float) -> list[str]:
    beat = replica.get("heartbeat_at")
    return [
        str(replica["id"]),
        str(replica.get("host") or display.DASH),
        str(replica.get("pid") or display.DASH),
        display.when(replica.get("started_at")),
        f"{display.when(beat)} ({display.age(now - beat)} ago)" if beat else display.DASH,
        "alive" if replica.get("alive") else ("stopped" if replica.get("stopped_at") else "silent"),
        (replica.get("config_commit") or display.DASH)[:12],
    ]


def _reload_cells(reload: dict) -> list[str]:
    return [
        display.when(reload.get("at")),
        str(reload.get("replica") or display.DASH),
        ("applied" if reload.get("ok") else "refused") + f" ({reload.get('trigger') or '?'})",
        (reload.get("commit") or display.DASH)[:12],
        display.count(reload.get("clients")),
        reload.get("error") or "",
    ]


def committed_config(client: Client) -> dict[str, Any]:
    """The client's file as committed (instructions and all) and the commit; outside git,
    or for a file git does not hold, the file on disk, saying so."""
    found = committed_file(Path(client.path))
    name = Path(client.path).name
    if not found.tracked:
        source = f"{name} on disk (not committed)"
    elif found.changed:
        source = f"{name} (edited on disk since; this is the committed text)"
    else:
        source = name
    return {"source": source, "commit": found.commit if found.tracked else None, "text": found.text}
