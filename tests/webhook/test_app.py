"""The webhook app through falcon.testing: signatures, storage, routing, statuses, admin API."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

import falcon.testing
import pytest

from horizon.config.loader import load_fleet
from horizon.settings import Settings
from horizon.store import Store
from horizon.webhook.app import create_app
from horizon.webhook.live_config import LiveConfig

from .conftest import AUTH_TOKEN, PUBLIC_URL, Signer

ADMIN = "admin-secret"
DATA = Path(__file__).parent.parent / "data" / "webhook"
SID = "SM0123456789abcdef0123456789abcdef"


class RecordingWorker:
    """Stands in for ReplyWorker: records which pairs it was told about."""

    def __init__(self) -> None:
        self.notified: list[tuple[str, str]] = []

    def notify(self, client_id: str, user_number: str) -> None:
        self.notified.append((client_id, user_number))


@pytest.fixture
def store(tmp_path) -> Store:
    opened = Store.open(f"sqlite:///{tmp_path}/horizon.db")
    yield opened
    opened.close()


@pytest.fixture
def worker() -> RecordingWorker:
    return RecordingWorker()


@pytest.fixture
def live_config(clients_dir) -> LiveConfig:
    return LiveConfig(load_fleet(clients_dir).fleet, clients_dir)


@pytest.fixture
def client(store, live_config, worker) -> falcon.testing.TestClient:
    settings = Settings(
        _env_file=None,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        HORIZON_PUBLIC_URL=PUBLIC_URL,
        HORIZON_ADMIN_TOKEN=ADMIN,
    )
    return falcon.testing.TestClient(create_app(settings, store, live_config, worker=worker))


def message(sid: str = SID, to: str = "+34910000101", body: str = "hola", **extra) -> dict:
    return {
        "MessageSid": sid,
        "From": "whatsapp:+34600000001",
        "To": f"whatsapp:{to}",
        "Body": body,
        "NumMedia": "0",
        **extra,
    }


def test_signed_message_is_stored_queued_and_acknowledged_with_empty_twiml(
    client, signer, store, worker
):
    result = client.simulate_post("/twilio/inbound", **signer.form("/twilio/inbound", message()))
    assert result.status_code == 200
    assert result.headers["content-type"].startswith("text/xml")
    assert result.text.endswith("<Response/>")
    [stored] = store.find_messages(sid=SID)
    assert (stored["client_id"], stored["body"], stored["status"]) == (
        "pizzeria-roma",
        "hola",
        "queued",
    )
    assert worker.notified == [("pizzeria-roma", "+34600000001")]


def test_unsigned_request_is_forbidden_and_not_stored(client, store):
    result = client.simulate_post(
        "/twilio/inbound",
        body="MessageSid=" + SID,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert result.status_code == 403
    assert store.find_messages() == []


def test_forged_signature_is_forbidden(client, store):
    forged = Signer(auth_token="someone-else").form("/twilio/inbound", message())
    assert client.simulate_post("/twilio/inbound", **forged).status_code == 403
    tampered = Signer().form("/twilio/inbound", message())
    tampered["body"] = tampered["body"].replace("hola", "adios")
    assert client.simulate_post("/twilio/inbound", **tampered).status_code == 403
    assert store.find_messages() == []


def test_signature_is_checked_against_the_public_url_not_the_request_host(client):
    local = Signer(public_url="http://falconframework.org").form("/twilio/inbound", message())
    assert client.simulate_post("/twilio/inbound", **local).status_code == 403


def test_replayed_message_sid_is_acknowledged_and_queued_once(client, signer, store, worker):
    for _ in range(3):
        form = signer.form("/twilio/inbound", message())
        assert client.simulate_post("/twilio/inbound", **form).status_code == 200
    assert len(store.find_messages(sid=SID)) == 1
    assert len(worker.notified) == 1


def test_unknown_to_number_is_stored_as_unrouted(client, signer, store, worker):
    form = signer.form("/twilio/inbound", message(to="+34910009999"))
    assert client.simulate_post("/twilio/inbound", **form).status_code == 200
    [stored] = store.find_messages(sid=SID)
    assert stored["status"] == "unrouted" and stored["client_id"] is None
    assert worker.notified == []


def test_media_is_stored_with_the_message(client, signer, store):
    params = message(
        body="",
        NumMedia="1",
        MediaUrl0="https://api.twilio.com/m/1",
        MediaContentType0="image/jpeg",
    )
    assert (
        client.simulate_post(
            "/twilio/inbound", **signer.form("/twilio/inbound", params)
        ).status_code
        == 200
    )
    assert "image/jpeg" in store.find_messages(sid=SID)[0]["media"]


@pytest.mark.parametrize("path", sorted(p.name for p in DATA.iterdir() if p.suffix != ".txt"))
def test_malformed_input_gets_a_4xx_never_a_500(client, signer, path):
    raw = (DATA / path).read_bytes()
    endpoint = "/twilio/status" if path.startswith("status-") else "/twilio/inbound"
    content_type = (
        "application/json" if path.endswith(".json") else "application/x-www-form-urlencoded"
    )
    try:
        params = dict(parse_qsl(raw.decode(), keep_blank_values=True))
    except UnicodeDecodeError:
        params = {}
    headers = {**signer.headers(endpoint, params), "Content-Type": content_type}
    result = client.simulate_post(endpoint, body=raw, headers=headers)
    assert 400 <= result.status_code < 500, (path, result.status_code, result.text)


def test_oversized_body_is_refused(client, signer):
    params = message(body="x" * 70_000)
    assert (
        client.simulate_post(
            "/twilio/inbound", **signer.form("/twilio/inbound", params)
        ).status_code
        == 413
    )


def test_status_callback_updates_the_outbound_message_only(client, signer, store):
    from horizon.store import InboundMessage

    store.queue.record_inbound(
        InboundMessage(SID, "+34600000001", "+34910000101", "whatsapp", "hola", "pizzeria-roma")
    )
    [item] = store.queue.pending_work("pizzeria-roma", "+34600000001")
    turn_id = store.queue.start_turn("pizzeria-roma", "+34600000001", [item.id])
    store.replies.save_reply(turn_id, "answer", ["hi"])
    out = "SM" + "f" * 32
    store.replies.record_part_sent(
        store.replies.turn(turn_id), 1, out, ("+34910000101", "+34600000001", "whatsapp"), "queued"
    )
    params = {"MessageSid": out, "MessageStatus": "delivered", "To": "whatsapp:+34600000001"}
    assert (
        client.simulate_post("/twilio/status", **signer.form("/twilio/status", params)).status_code
        == 204
    )
    assert store.find_messages(sid=out)[0]["status"] == "delivered"
    assert store.find_messages(sid=SID)[0]["status"] == "queued"  # the inbound is untouched
    unsigned = client.simulate_post(
        "/twilio/status",
        body="MessageSid=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert unsigned.status_code == 403


def test_health_readiness_and_metrics(client, signer):
    assert client.simulate_get("/healthz").json == {"status": "ok"}
    ready = client.simulate_get("/readyz")
    assert ready.status_code == 200 and ready.json["clients"] == 4
    client.simulate_post("/twilio/inbound", **signer.form("/twilio/inbound", message()))
    metrics = client.simulate_get("/metrics").text
    assert 'horizon_inbound_messages_total{client="pizzeria-roma",outcome="stored"} 1.0' in metrics


def test_admin_api_needs_the_bearer_token(client):
    assert client.simulate_get("/api/clients").status_code == 401
    wrong = client.simulate_get("/api/clients", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    listed = client.simulate_get("/api/clients", headers={"Authorization": f"Bearer {ADMIN}"})
    assert [c["id"] for c in listed.json["clients"]] == [
        "bar-cerrado",
        "farmacia-sol",
        "pizzeria-roma",
        "tienda-limitada",
    ]
    assert "instructions" not in listed.json["clients"][0]


def test_reload_swaps_a_valid_config_and_keeps_the_old_one_when_broken(
    client, clients_dir, live_config
):
    auth = {"Authorization": f"Bearer {ADMIN}"}
    (clients_dir / "bar-nuevo.yaml").write_text(
        'name: Bar Nuevo\nnumber: "+34910000105"\nassistant:\n  instructions: Hola.\n'
    )
    applied = client.simulate_post("/api/reload", headers=auth)
    assert applied.status_code == 200 and applied.json["clients"] == 5
    assert live_config.fleet.route("whatsapp:+34910000105").id == "bar-nuevo"

    (clients_dir / "roto.yaml").write_text("name: Roto\nnumber: nope\n")
    rejected = client.simulate_post("/api/reload", headers=auth)
    assert rejected.status_code == 422 and rejected.json["applied"] is False
    assert any("roto.yaml" in error for error in rejected.json["errors"])
    assert len(live_config.fleet) == 5  # the good table keeps serving


@pytest.mark.parametrize("token", ["contraseña", "ñ" * 12, f"{ADMIN}é"])
def test_a_non_ascii_bearer_token_is_refused_not_an_error(client, token):
    # Header values travel as latin-1 bytes; a non-ASCII one must not crash the comparison.
    result = client.simulate_get(
        "/api/clients", headers={"Authorization": f"Bearer {token}".encode().decode("latin-1")}
    )
    assert result.status_code == 401


def test_a_non_ascii_admin_token_sent_as_utf8_is_accepted(store, live_config, worker):
    settings = Settings(
        _env_file=None,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        HORIZON_PUBLIC_URL=PUBLIC_URL,
        HORIZON_ADMIN_TOKEN="contraseña-secreta",
    )
    client = falcon.testing.TestClient(create_app(settings, store, live_config, worker=worker))
    header = "Bearer contraseña-secreta".encode().decode("latin-1")  # the bytes on the wire
    assert client.simulate_get("/api/clients", headers={"Authorization": header}).status_code == 200


def test_rejected_requests_are_counted_as_rejected(client, signer):
    unsigned = client.simulate_post(
        "/twilio/inbound",
        body="MessageSid=" + SID,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    bad_sid = client.simulate_post(
        "/twilio/inbound", **signer.form("/twilio/inbound", message(sid="SM123"))
    )
    assert (unsigned.status_code, bad_sid.status_code) == (403, 400)
    metrics = client.simulate_get("/metrics").text
    assert 'horizon_inbound_messages_total{client="(rejected)",outcome="rejected"} 2.0' in metrics


def test_a_reload_through_the_api_is_counted_once(client):
    auth = {"Authorization": f"Bearer {ADMIN}"}
    assert client.simulate_post("/api/reload", headers=auth).status_code == 200
    metrics = client.simulate_get("/metrics").text
    assert 'horizon_config_reloads_total{result="applied"} 1.0' in metrics


def test_a_message_the_database_refuses_is_answered_503_never_200(client, signer, store):
    with store.engine.begin() as connection:  # the store breaks under the running webhook
        connection.exec_driver_sql("ALTER TABLE messages RENAME TO messages_gone")
    result = client.simulate_post("/twilio/inbound", **signer.form("/twilio/inbound", message()))
    assert result.status_code == 503
    assert result.headers["retry-after"] == "1"
    assert "<Response/>" not in result.text
