"""The panel's figures (horizon/queries/panel.py) over messages with known times and
latencies, on SQLite and PostgreSQL; conversations and threads over real traffic."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from horizon.config.loader import load_fleet
from horizon.config.prices import DEFAULT_PRICES
from horizon.queries.panel import (
    client_series,
    conversations,
    fleet_rows,
    problem_key,
    problems,
    sort_problems_first,
    thread,
)
from horizon.queries.threads import SearchError
from horizon.store.schema import messages, monthly_usage, turns
from horizon.store.store import Store
from tests.queries.running import answered, start_webhook
from tests.webhook.conftest import write_clients

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC).timestamp()
HOUR, DAY = 3600.0, 86400.0
ANA, LUIS = "+34600000001", "+34600000002"


class Rows:
    """Messages and turns written straight into a store, with chosen times and outcomes."""

    def __init__(self, store: Store) -> None:
        self.store, self.n = store, 0

    def exchange(
        self,
        client: str,
        at: float,
        latency: float | None = 2.0,
        status: str = "answered",
        error: str | None = None,
        out_status: str = "delivered",
        user: str = ANA,
        tokens: tuple[int, int] = (1000, 100),
    ) -> None:
        self.n += 1
        common = {"client_id": client, "user_number": user, "client_number": "+34910000101"}
        common |= {"channel": "whatsapp", "turn_id": self.n}
        answered_at = None if latency is None else at + latency
        rows = [
            {
                **common,
                "sid": f"SMin{self.n:030d}",
                "direction": "inbound",
                "body": f"pregunta {self.n}",
                "status": status,
                "error": error,
                "created_at": at,
                "updated_at": at,
                "answered_at": answered_at,
            }
        ]
        if answered_at is not None:
            rows.append(
                {
                    **common,
                    "sid": f"SMout{self.n:029d}",
                    "direction": "outbound",
                    "body": "respuesta",
                    "status": out_status,
                    "error": "63016" if out_status == "undelivered" else None,
                    "part": 1,
                    "input_tokens": tokens[0],
                    "output_tokens": tokens[1],
                    "created_at": answered_at,
                    "updated_at": answered_at,
                }
            )
        turn = {"id": self.n, "client_id": client, "user_number": user, "kind": "answer"}
        turn |= {"model": "gpt-5.4-mini", "input_tokens": tokens[0], "output_tokens": tokens[1]}
        turn |= {"started_at": at, "finished_at": answered_at, "parts_sent": 1}
        with self.store.engine.begin() as connection:
            connection.execute(turns.insert(), [turn])
            for row in rows:
                connection.execute(messages.insert().values(row))

    def ledger(self, client: str, month: str, inp: int, out: int) -> None:
        row = {"client_id": client, "month": month, "model": "gpt-5.4-mini"}
        row |= {"input_tokens": inp, "output_tokens": out}
        with self.store.engine.begin() as connection:
            connection.execute(monthly_usage.insert(), [row])


@pytest.fixture
def store(database_url):
    opened = Store.open(database_url)
    yield opened
    opened.close()


@pytest.fixture
def fleet(tmp_path):
    return load_fleet(write_clients(tmp_path / "clients")).fleet


def test_fleet_rows_count_today_the_last_day_failures_latency_and_budget(store, fleet):
    rows = Rows(store)
    for latency in (1.0, 2.0, 3.0, 4.0, 10.0):  # today: p95 of five is the largest
        rows.exchange("pizzeria-roma", NOW - HOUR, latency=latency)
    rows.exchange(
        "pizzeria-roma", NOW - 13 * HOUR, status="failed", error="model down", latency=None
    )
    rows.exchange("pizzeria-roma", NOW - 14 * HOUR, out_status="undelivered")  # yesterday
    rows.exchange(
        "pizzeria-roma", NOW - 30 * HOUR, status="failed", error="old", latency=None
    )  # > 24 h
    rows.exchange("farmacia-sol", NOW - 3 * DAY)
    rows.ledger("pizzeria-roma", "2026-11", 10_000_000, 1_000_000)
    found = {row["client"]: row for row in fleet_rows(store, fleet, NOW)}
    roma, sol = found["pizzeria-roma"], found["farmacia-sol"]
    assert roma["messages_today"] == 10 and roma["inbound_today"] == 5
    assert roma["messages_24h"] == 10 + 1 + 2  # the failed one has no reply
    assert roma["failures_24h"] == 2  # one not answered, one reply not delivered
    assert roma["p95_ms_24h"] == 10_000
    assert roma["last_message_at"] == pytest.approx(NOW - HOUR + 10.0)
    openai = DEFAULT_PRICES.tokens("gpt-5.4-mini", 10_000_000, 1_000_000)
    assert roma["openai_usd"] == pytest.approx(openai)
    assert roma["twilio_usd"] == pytest.approx(DEFAULT_PRICES.messages("whatsapp", 8, 6))
    assert sol["messages_today"] == 0 and sol["p95_ms_24h"] is None and sol["failures_24h"] == 0
    assert set(found) == {client.id for client in fleet}


def test_problems_come_first_in_the_documented_order():
    def row(client, **values):
        return {"client": client, "channel": "whatsapp", "enabled": True} | values

    fine = row("a-fine")
    disabled = row("b-disabled", enabled=False)
    burnt = row("c-burnt", budget_used=0.95)
    failing = row("d-failing", failures_24h=3)
    more_failing = row("e-failing", failures_24h=7)
    drifted = row("f-drifted")
    offline = row("g-offline")
    senders = {"g-offline": "OFFLINE", "a-fine": "ONLINE"}
    syncs = {"f-drifted": "OutOfSync", "a-fine": "Synced"}
    ordered = sort_problems_first(
        [fine, disabled, burnt, failing, more_failing, drifted, offline], senders, syncs
    )
    assert [r["client"] for r in ordered] == [
        "g-offline",
        "f-drifted",
        "e-failing",
        "d-failing",
        "c-burnt",
        "b-disabled",
        "a-fine",
    ]
    assert problems(offline, "OFFLINE", "Missing") == ["sender OFFLINE", "Missing"]
    assert problems(burnt) == ["budget 95% used"] and problems(fine, "ONLINE", "Synced") == []
    sms = row("h-sms", channel="sms")
    assert problem_key(sms, "MISSING")[0] == problem_key(fine)[0]  # SMS has no sender


def test_client_series_has_thirty_days_of_volume_and_latency_the_month_and_failures(store, fleet):
    rows = Rows(store)
    for latency in (1.0, 2.0, 3.0):
        rows.exchange("pizzeria-roma", NOW - 2 * HOUR, latency=latency)
    rows.exchange("pizzeria-roma", NOW - 5 * DAY, latency=0.5)
    rows.exchange("pizzeria-roma", NOW - 6 * DAY, status="failed", error="model down", latency=None)
    rows.exchange("pizzeria-roma", NOW - 7 * DAY, status="failed", error="model down", latency=None)
    rows.exchange("pizzeria-roma", NOW - 8 * DAY, out_status="undelivered")
    rows.exchange("pizzeria-roma", NOW - 40 * DAY)  # outside the 30 days
    rows.exchange("farmacia-sol", NOW - HOUR)  # another client's
    roma = fleet.by_id["pizzeria-roma"]
    series = client_series(store, roma, NOW)
    days = series["days"]
    assert len(days) == 30 and days[-1]["date"] == "2026-11-25" and days[0]["date"] == "2026-10-27"
    assert days[-1] | {} == {
        "date": "2026-11-25",
        "inbound": 3,
        "outbound": 3,
        "p50_ms": 2000,
        "p95_ms": 3000,
    }
    assert days[-6]["date"] == "2026-11-20" and days[-6]["p50_ms"] == 500
    assert days[-7] == {"date": "2026-11-19", "inbound": 1, "outbound": 0} | {
        "p50_ms": None,
        "p95_ms": None,
    }
    assert sum(d["inbound"] for d in days) == 7
    month = series["month"]
    assert [d["date"] for d in month] == [f"2026-11-{n:02d}" for n in range(1, 26)]
    spent = DEFAULT_PRICES.tokens("gpt-5.4-mini", 3000, 300)
    spent += DEFAULT_PRICES.messages("whatsapp", 3, 3)
    assert month[-1]["cost_usd"] == pytest.approx(spent)
    assert month[-1]["cumulative_usd"] == pytest.approx(sum(d["cost_usd"] for d in month))
    assert series["budget_usd"] == roma.limits.monthly_budget_usd
    assert series["failures"] == [
        {"reason": "model down", "count": 2},
        {"reason": "63016", "count": 1},
    ]


@pytest.fixture
def traffic(sandbox, tmp_path, database_url):
    """Three conversations answered by the webhook; yields its store and fleet."""
    clients_dir = write_clients(tmp_path / "clients")
    running = start_webhook(sandbox, clients_dir, database_url)
    for count, (user, to, text) in enumerate(
        [
            (ANA, "+34910000101", "¿Tenéis MESA para dos?"),
            (LUIS, "+34910000102", "HOLA, ¿tenéis Ñandú?"),
            (ANA, "+34910000102", "adiós"),
        ],
        start=1,
    ):
        sandbox.inbound(user, to, text)
        answered(running, count)
    yield running.webhook.store.store, load_fleet(clients_dir).fleet
    running.stop()


def test_conversations_list_pairs_newest_first_masked_and_open_by_key(traffic):
    store, fleet = traffic
    found = conversations(store, fleet)
    assert [(c["client"], c["user"]) for c in found] == [
        ("farmacia-sol", "+*******0001"),
        ("farmacia-sol", "+*******0002"),
        ("pizzeria-roma", "+*******0001"),
    ]
    assert all(ANA not in str(c) and LUIS not in str(c) for c in found)
    assert found[0]["messages"] == 2 and found[0]["client_name"] == "Farmacia Sol"
    assert found[0]["last_direction"] == "outbound"
    assert [c["client"] for c in conversations(store, fleet, text="ñandú")] == ["farmacia-sol"]
    assert len(conversations(store, fleet, user="0001")) == 2
    assert len(conversations(store, fleet, user="+*******0002")) == 1
    assert conversations(store, fleet, user="9999") == []
    assert len(conversations(store, fleet, user="+34 600 00 00 02")) == 1
    assert len(conversations(store, fleet, client="pizzeria-roma")) == 1
    assert conversations(store, fleet, since=time.time() + 60) == []
    assert len(conversations(store, fleet, limit=1)) == 1
    opened = thread(store, "farmacia-sol", found[1]["key"])
    assert opened["user"] == "+*******0002" and ANA not in str(opened)
    asked, reply = opened["messages"]
    assert asked["direction"] == "inbound" and asked["text"] == "HOLA, ¿tenéis Ñandú?"
    assert asked["status"] == "answered" and asked["latency_ms"] >= 0
    assert reply["direction"] == "outbound" and reply["output_tokens"] > 0
    assert thread(store, "pizzeria-roma", found[1]["key"]) is None  # another client's key
    assert thread(store, "farmacia-sol", "not-a-key") is None


@pytest.mark.parametrize("user", ["12", "abc", "+1", "+****12"])
def test_a_user_search_that_cannot_be_read_is_a_one_line_error(store, fleet, user):
    with pytest.raises(SearchError) as raised:
        conversations(store, fleet, user=user)
    assert "\n" not in str(raised.value)
