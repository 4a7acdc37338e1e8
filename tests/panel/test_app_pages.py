"""The panel's pages and their JSON over real traffic: every page answers with the figures
stored, and no response ever holds a user's full number."""

from __future__ import annotations

import re
from urllib.parse import quote

from tests.panel import world

traffic, panel = world.traffic, world.panel  # the fixtures
CLIENT_IDS = ("pizzeria-roma", "farmacia-sol", "bar-cerrado", "tienda-limitada")


def row_of(html: str, client: str) -> str:
    return re.search(rf'<tr data-client="{client}".*?</tr>', html, re.S).group(0)


def test_fleet_page_lists_every_client_with_its_figures(panel):
    page = panel.get("/")
    assert page.status_code == 200
    for client in CLIENT_IDS:
        assert f'data-client="{client}"' in page.text
    roma = row_of(page.text, "pizzeria-roma")
    assert re.search(r'data-col="today"[^>]*data-value="4"', roma)  # 2 in, 2 out
    assert 'data-col="sync" data-label="Sync" class="sync-status" data-status="Unknown"' in roma
    assert re.search(r'data-col="number"[^>]*>\+34910000101<', roma)
    assert 'href="/clients/pizzeria-roma"' in roma
    disabled = row_of(page.text, "bar-cerrado")
    assert re.search(r'data-col="enabled"[^>]*>no<', disabled)


def test_fleet_json_carries_the_rows_the_page_refreshes(panel):
    data = panel.get("/api/fleet").json
    rows = {row["client"]: row for row in data["clients"]}
    assert set(rows) == set(CLIENT_IDS)
    roma = rows["pizzeria-roma"]
    assert roma["messages_today"] == 4 and roma["failures_24h"] == 0
    assert roma["p95_ms_24h"] is not None and roma["display"]["p95"].endswith(("ms", "s"))
    assert roma["display"]["today"] == "4"
    assert data["fields"]["count"] == "4 clients"
    assert data["fields"]["drift_checked"] == "not yet"  # no checker in these tests
    # problems first: the disabled client before the quiet ones
    assert data["clients"][0]["client"] == "bar-cerrado"


def test_client_page_shows_its_config_and_charts(panel):
    page = panel.get("/clients/pizzeria-roma")
    assert page.status_code == 200
    assert "Eres el asistente de Pizzería Roma." in page.text  # the instructions
    assert 'id="config-text"' in page.text and "on disk (not committed)" in page.text
    for chart in ("messages", "latency", "cost"):
        assert f'<canvas id="chart-{chart}" data-chart="{chart}"' in page.text
    assert '<script src="/static/vendor/chart.umd.min.js" defer>' in page.text
    assert 'data-refresh="/api/clients/pizzeria-roma" data-refresh-now' in page.text


def test_client_json_has_thirty_days_and_the_month(panel):
    data = panel.get("/api/clients/pizzeria-roma").json
    series = data["series"]
    assert len(series["days"]) == 30
    today = series["days"][-1]
    assert today["inbound"] == 2 and today["outbound"] == 2 and today["p95_ms"] is not None
    assert series["month"][-1]["cumulative_usd"] > 0
    assert data["fields"]["today"] == "4"
    assert data["tables"] == {"failures": [], "knowledge": []}


def test_an_unknown_client_is_a_404_page(panel):
    page = panel.get("/clients/nobody")
    assert page.status_code == 404
    assert page.headers["Content-Type"].startswith("text/html")
    assert "no client nobody" in page.text
    assert panel.get("/api/clients/nobody").json["description"] == "no client nobody"


def test_conversations_are_found_by_the_last_four_digits(panel):
    data = panel.get("/api/conversations", query_string="user=1234").json
    users = {(row["client"], row["user"]) for row in data["conversations"]}
    assert users == {("pizzeria-roma", "+*******1234"), ("farmacia-sol", "+*******1234")}
    page = panel.get("/conversations", query_string="user=1234&client=farmacia-sol")
    assert page.text.count("data-conversation=") == 1
    assert "¿tenéis ibuprofeno?" in page.text


def test_conversations_are_found_by_text_and_date(panel):
    found = panel.get("/api/conversations", query_string=f"text={quote('IBUPROFENO')}").json
    assert [row["client"] for row in found["conversations"]] == ["farmacia-sol"]
    old = panel.get("/api/conversations", query_string="until=2020-01-01").json
    assert old["conversations"] == []


def test_a_bad_search_says_why(panel):
    for query, words in (("user=12", "last 4 digits"), ("since=yesterday", "not a date")):
        page = panel.get("/conversations", query_string=query)
        assert page.status_code == 200 and words in page.text, query


def test_a_thread_shows_each_message_with_status_latency_and_tokens(panel):
    rows = panel.get("/api/conversations", query_string="client=pizzeria-roma&user=5678").json
    (row,) = rows["conversations"]
    assert row["key"].isdigit()
    page = panel.get(f"/conversations/pizzeria-roma/{row['key']}")
    assert page.status_code == 200
    assert "+*******5678" in page.text
    assert 'data-direction="inbound"' in page.text and 'data-direction="outbound"' in page.text
    thread = panel.get(f"/api/conversations/pizzeria-roma/{row['key']}").json
    inbound, outbound = thread["messages"]
    assert inbound["status"] == "answered" and inbound["latency"].endswith(("ms", "s"))
    assert re.fullmatch(r"\d+ / \d+", outbound["tokens"])


def test_a_thread_is_named_by_its_key_never_by_a_number(panel):
    for key in (quote(world.USERS[0]), "1234", "abc"):
        assert panel.get(f"/conversations/pizzeria-roma/{key}").status_code == 404, key
    assert panel.get("/conversations/nobody/1").status_code == 404


def test_system_page_shows_the_queue_and_the_database(panel):
    page = panel.get("/system")
    assert page.status_code == 200
    data = panel.get("/api/system").json
    assert data["fields"]["queue_depth"] == "0"
    assert data["fields"]["database"].startswith("sqlite:///")
    assert data["fields"]["drift_checked"] == "drift checks are off"
    assert data["replicas"], "the webhook that answered reported itself"
    assert 'id="queue-depth"' in page.text


def test_no_response_holds_a_full_user_number(panel):
    conversations = panel.get("/api/conversations").json["conversations"]
    paths = ["/", "/api/fleet", "/system", "/api/system", "/conversations", "/api/conversations"]
    paths += [f"/clients/{client}" for client in CLIENT_IDS]
    paths += [f"/api/clients/{client}" for client in CLIENT_IDS]
    for row in conversations:
        paths += [f"/conversations/{row['client']}/{row['key']}"]
        paths += [f"/api/conversations/{row['client']}/{row['key']}"]
    paths += ["/conversations?user=1234", "/api/conversations?text=hola"]
    seen = 0
    for path in paths:
        target, _, query = path.partition("?")
        result = panel.get(target, query_string=query)
        assert result.status_code == 200, path
        text = result.text + repr(result.headers)
        for number in world.USERS:
            assert number[1:] not in text, (path, number)  # with or without the +
        seen += text.count("+*******1234") + text.count("+*******5678")
    assert seen >= 6


def test_every_page_polls_json_that_names_what_it_refreshes(panel):
    first = panel.get("/api/conversations").json["conversations"][0]
    thread = f"/conversations/{first['client']}/{first['key']}"
    for page in ("/", "/clients/pizzeria-roma", "/conversations", thread, "/system"):
        html = panel.get(page).text
        source = re.search(r'<body data-page="\w+" data-refresh="([^"]+)"', html).group(1)
        data = panel.get(source).json
        for name in data["fields"]:
            assert f'data-field="{name}"' in html, (page, name)
        for name in data.get("tables", {}):
            assert f'<tbody data-table="{name}">' in html, (page, name)


def test_every_page_answers_on_either_database(tmp_path, sandbox, database_url):
    clients_dir = world.write_clients(tmp_path / "clients")
    with world.start_webhook(sandbox, clients_dir, database_url) as running:
        sandbox.inbound(world.USERS[1], "+34910000101", "¿mesa para dos?")
        world.answered(running, 1)
    client, store = world.app_client(world.Traffic(clients_dir, database_url, sandbox))
    cookies = {"horizon_session": world.log_in(client).cookies["horizon_session"].value}
    (row,) = client.simulate_get("/api/conversations", cookies=cookies).json["conversations"]
    thread = f"/conversations/{row['client']}/{row['key']}"
    for page in ("/", "/clients/pizzeria-roma", "/conversations", thread, "/system"):
        for path in (page, "/api" + page if page != "/" else "/api/fleet"):
            result = client.simulate_get(path, cookies=cookies, query_string="user=5678")
            assert result.status_code == 200, path
            assert world.USERS[1][1:] not in result.text
    store.close()


def test_a_text_search_of_every_client_looks_back_a_week_and_says_so(panel):
    from time import time

    from horizon.store.schema import messages

    old = time() - 40 * 86400  # before the last week, and before this month's figures
    row = {
        "sid": "SM" + "e" * 32,
        "direction": "inbound",
        "client_id": "farmacia-sol",
        "user_number": "+34600009999",
        "client_number": "+34910000102",
        "channel": "whatsapp",
        "body": "¿Tenéis zarzaparrilla?",
        "status": "answered",
        "created_at": old,
        "updated_at": old,
    }
    with panel.store.engine.begin() as connection:
        connection.execute(messages.insert().values(row))
    try:
        wide = panel.get("/conversations", query_string="text=zarzaparrilla")
        assert "data-conversation=" not in wide.text
        assert "Searched the last 7 days of every client" in wide.text
        for narrower in ("client=farmacia-sol", "since=2000-01-01", "user=9999"):
            page = panel.get("/conversations", query_string=f"text=zarzaparrilla&{narrower}")
            assert page.text.count("data-conversation=") == 1, narrower
            assert 'id="search-scope"' not in page.text, narrower
    finally:
        with panel.store.engine.begin() as connection:
            connection.execute(messages.delete().where(messages.c.sid == row["sid"]))
