"""End to end: the sandbox delivers signed messages to a running webhook, the real SDKs answer.

The webhook runs on a background thread here; tests/webhook/test_serve_process.py runs
`horizon serve` as a process and kills it.
"""

from __future__ import annotations

import time

import httpx
import pytest

from horizon.config.loader import load_fleet
from horizon.webhook.server import start_in_thread
from horizon.worker.reply_worker import WorkerOptions

ANA, LUIS = "+34600000001", "+34600000002"
ROMA, SOL, CERRADO, LIMITADA = "+34910000101", "+34910000102", "+34910000103", "+34910000104"


def replies(sandbox, to: str | None = None) -> list[dict]:
    sent = sandbox.messages(direction="outbound-api")
    return [m for m in sent if to is None or m["to"] == f"whatsapp:{to}"]


def eventually(condition, timeout: float = 15.0, what: str = "the condition"):
    """Poll `condition()` until it returns something truthy (returned) or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout} s (last: {result!r})")
        time.sleep(0.05)


def inbound_statuses(webhook) -> list[str]:
    """The stored inbound messages' statuses, oldest first."""
    return [m["status"] for m in webhook.webhook.store.store.find_messages(direction="inbound")]


def all_handled(webhook, count: int):
    """True once `count` inbound messages are stored and none is still waiting for a turn."""
    statuses = inbound_statuses(webhook)
    return len(statuses) == count and "queued" not in statuses


def wait_for_replies(sandbox, count: int, to: str | None = None, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = replies(sandbox, to)
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"expected {count} replies, got {replies(sandbox, to)}")


@pytest.fixture
def webhook(sandbox, clients_dir, tmp_path):
    settings = sandbox.settings(
        HORIZON_CLIENTS_DIR=str(clients_dir), HORIZON_DATABASE_URL=f"sqlite:///{tmp_path}/h.db"
    )
    running = start_in_thread(settings, options=WorkerOptions(coalesce_window=0.3))
    numbers = [client.number for client in load_fleet(clients_dir).fleet]
    sandbox.add_senders([*numbers, "+34910009999"], f"{running.url}/twilio/inbound")
    yield running
    running.stop()


def test_message_is_answered_from_the_clients_number_with_its_assistant(sandbox, webhook):
    delivered = sandbox.inbound(ANA, ROMA, "¿Tenéis mesa?")
    assert delivered["webhook"]["status"] == 200
    [reply] = wait_for_replies(sandbox, 1)
    assert reply["from"] == f"whatsapp:{ROMA}" and reply["to"] == f"whatsapp:{ANA}"
    assert reply["body"].startswith("Eres el asistente de Pizzería Roma.")
    assert "¿Tenéis mesa?" in reply["body"]
    store = webhook.webhook.store.store

    def delivered() -> bool:
        return [m["status"] for m in store.find_messages(direction="outbound")] == ["delivered"]

    eventually(delivered, what="the 'delivered' status callback stored")


def test_unsigned_and_forged_requests_are_forbidden(sandbox, webhook):
    form = {"MessageSid": "SM" + "0" * 32, "From": f"whatsapp:{ANA}", "To": f"whatsapp:{ROMA}"}
    unsigned = httpx.post(f"{webhook.url}/twilio/inbound", data=form)
    forged = httpx.post(
        f"{webhook.url}/twilio/inbound", data=form, headers={"X-Twilio-Signature": "Zm9yZ2Vk"}
    )
    assert (unsigned.status_code, forged.status_code) == (403, 403)


def test_replayed_message_sid_gets_one_answer(sandbox, webhook):
    sandbox.inbound(ANA, ROMA, "hola")
    # Replay Twilio's exact delivery, signature and all, as a retrying proxy would.
    inbound = sandbox.messages(direction="inbound")[0]
    from horizon.sandbox.control import inbound_params
    from horizon.sandbox.delivery import twilio_signature

    record = {**inbound, "account_sid": sandbox.account_sid, "num_segments": "1"}
    params = inbound_params(record, "whatsapp", "Sandbox User", [])
    url = f"{webhook.url}/twilio/inbound"
    headers = {"X-Twilio-Signature": twilio_signature(sandbox.auth_token, url, params)}
    for _ in range(3):
        assert httpx.post(url, data=params, headers=headers).status_code == 200
    wait_for_replies(sandbox, 1)
    eventually(lambda: all_handled(webhook, 1), what="the message answered")
    time.sleep(0.5)  # a second answer, were there one, would be on its way by now
    assert len(replies(sandbox)) == 1


def test_rapid_messages_are_answered_in_order_or_coalesced(sandbox, webhook):
    texts = [f"mensaje {n}" for n in range(1, 6)]
    for text in texts:
        sandbox.inbound(ANA, ROMA, text)
    eventually(lambda: all_handled(webhook, len(texts)), what="every message answered")
    bodies = [reply["body"] for reply in replies(sandbox)]
    quoted = [text for body in bodies for text in texts if text in body]
    assert quoted == texts  # every message reached the model, in order, none twice


def test_one_user_has_separate_conversations_with_two_clients(sandbox, webhook):
    sandbox.inbound(ANA, ROMA, "hola roma")
    sandbox.inbound(ANA, SOL, "hola sol")
    wait_for_replies(sandbox, 2)
    by_sender = {reply["from"]: reply["body"] for reply in replies(sandbox)}
    assert (
        "Pizzería Roma" in by_sender[f"whatsapp:{ROMA}"]
        and "hola sol" not in by_sender[f"whatsapp:{ROMA}"]
    )
    assert (
        "Farmacia Sol" in by_sender[f"whatsapp:{SOL}"]
        and "hola roma" not in by_sender[f"whatsapp:{SOL}"]
    )
    conversations = sandbox.openai().conversations
    store = webhook.webhook.store.store
    roma, sol = (
        store.users.conversation("pizzeria-roma", ANA)[0],
        store.users.conversation("farmacia-sol", ANA)[0],
    )
    assert roma != sol
    assert conversations.retrieve(roma).metadata["client"] == "pizzeria-roma"


def test_injected_openai_failures_still_answer_everything(sandbox, webhook):
    sandbox.faults(
        fail_rate=0.3,
        status=429,
        retry_after=0.05,
        paths=["/v1/responses", "/v1/conversations"],
        seed=7,
    )
    users = [f"+3460000{n:04d}" for n in range(10)]
    for user in users[:5]:
        sandbox.inbound(user, ROMA, f"pregunta de {user}")
    sandbox.faults(status=500)
    for user in users[5:]:
        sandbox.inbound(user, ROMA, f"pregunta de {user}")
    found = wait_for_replies(sandbox, len(users), timeout=30)
    for user in users:
        [reply] = [r for r in found if r["to"] == f"whatsapp:{user}"]
        assert f"pregunta de {user}" in reply["body"]  # the model's answer, not the fallback


def test_exhausted_retries_send_the_fallback_message(sandbox, webhook):
    sandbox.faults(fail_rate=1.0, status=503, retry_after=0.0, paths=["/v1/responses"])
    sandbox.inbound(ANA, ROMA, "hola")
    [reply] = wait_for_replies(sandbox, 1, timeout=60)
    assert reply["body"] == "Lo siento, ahora no puedo responder."
    # The part is sent before the turn's end is stored: wait for the store to catch up.
    eventually(lambda: inbound_statuses(webhook) == ["failed"], what="the message marked failed")


def test_a_4000_character_reply_arrives_as_three_ordered_parts(sandbox, webhook):
    long_text = " ".join(f"Frase {n} de una consulta larga." for n in range(200))[:3900].strip()
    sandbox.inbound(ANA, ROMA, long_text)
    parts = wait_for_replies(sandbox, 3)
    assert len(parts) == 3 and all(len(part["body"]) <= 1600 for part in parts)
    joined = " ".join(part["body"] for part in parts)
    assert long_text[:100] in joined and long_text[-60:] in joined
    assert parts[0]["body"].startswith("Eres el asistente")


def test_paused_client_answers_with_its_paused_message(sandbox, webhook):
    sandbox.inbound(ANA, CERRADO, "hola")
    [reply] = wait_for_replies(sandbox, 1)
    assert reply["body"] == "Estamos de vacaciones."
    assert sandbox.requests()["by_route"].get("POST /v1/responses", 0) == 0


def test_over_the_hourly_limit_gets_one_polite_notice_and_no_model_call(sandbox, webhook):
    for n in range(2):
        sandbox.inbound(ANA, LIMITADA, f"hola {n}")
        wait_for_replies(sandbox, n + 1)
    for n in range(2, 5):
        sandbox.inbound(ANA, LIMITADA, f"hola {n}")
    eventually(lambda: all_handled(webhook, 5), what="every message handled")
    bodies = [reply["body"] for reply in replies(sandbox)]
    assert len(bodies) == 3 and "espera" in bodies[2]
    assert sandbox.requests()["by_route"]["POST /v1/responses"] == 2


def test_baja_opts_out_until_alta(sandbox, webhook):
    sandbox.inbound(ANA, ROMA, "BAJA")
    [confirm] = wait_for_replies(sandbox, 1)
    assert "ALTA" in confirm["body"]
    sandbox.inbound(ANA, ROMA, "¿hola?")
    eventually(lambda: inbound_statuses(webhook)[1:] == ["ignored"], what="the message ignored")
    assert len(replies(sandbox)) == 1
    sandbox.inbound(ANA, ROMA, "ALTA")
    sandbox.inbound(ANA, ROMA, "ya estoy")
    welcome, answer = wait_for_replies(sandbox, 3)[1:]
    assert "Hola de nuevo" in welcome["body"] and "ya estoy" in answer["body"]


def test_media_is_acknowledged_and_described_to_the_model(sandbox, webhook):
    sandbox.inbound(ANA, ROMA, "", media_url="https://example.com/foto.jpg")
    [reply] = wait_for_replies(sandbox, 1)
    assert "The user sent an image" in reply["body"]


def test_unknown_to_number_is_stored_as_unrouted(sandbox, webhook):
    assert sandbox.inbound(ANA, "+34910009999", "¿hola?")["webhook"]["status"] == 200
    [stored] = webhook.webhook.store.store.find_messages(direction="inbound")
    assert stored["status"] == "unrouted"
    time.sleep(0.5)  # an answer, were there one, would be on its way by now
    assert replies(sandbox) == []


def test_stopping_lets_a_turn_under_way_finish_and_send_its_reply(sandbox, webhook):
    sandbox.faults(latency_ms=1000, paths=["/v1/responses"])
    sandbox.inbound(ANA, ROMA, "¿a qué hora abrís?")
    eventually(
        lambda: sandbox.requests()["by_route"].get("POST /v1/responses"),
        what="the model call under way",
    )

    webhook.stop()

    [reply] = replies(sandbox)
    assert "¿a qué hora abrís?" in reply["body"]
    assert inbound_statuses(webhook) == ["answered"]


def test_a_reply_outside_the_24_hour_window_fails_with_63016_and_is_not_retried(
    sandbox, webhook, caplog
):
    # A message reaches the webhook without the user having written to WhatsApp (a replayed
    # old message, say): Twilio accepts the reply, then fails it with 63016.
    from horizon.sandbox.delivery import twilio_signature

    form = {
        "MessageSid": "SM" + "e" * 32, "From": f"whatsapp:{ANA}", "To": f"whatsapp:{ROMA}",
        "Body": "hola", "AccountSid": sandbox.account_sid,
    }  # fmt: skip
    url = f"{webhook.public_url}/twilio/inbound"
    signature = twilio_signature(sandbox.auth_token, url, form)
    with caplog.at_level("INFO", logger="horizon"):
        answer = httpx.post(url, data=form, headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 200

        store = webhook.webhook.store.store
        failed = eventually(
            lambda: [
                m for m in store.find_messages(direction="outbound") if m["status"] == "failed"
            ],
            what="the failed delivery stored",
        )

    assert [m["error"] for m in failed] == ["63016"]
    assert len(replies(sandbox, ANA)) == 1  # sent once, never again
    metrics = httpx.get(f"{webhook.url}/metrics").text
    assert 'horizon_delivery_errors_total{code="63016"} 1.0' in metrics
    [logged] = [r for r in caplog.records if getattr(r, "horizon", {}).get("status") == "failed"]
    assert "24-hour window" in logged.horizon["hint"]


def test_lost_answers_from_twilio_never_duplicate_a_reply_in_a_burst(sandbox, webhook):
    users = [f"+346000{n:05d}" for n in range(50)]
    sandbox.faults(
        phase="after", fail_rate=0.3, seed=7, retry_after=0,
        paths=[f"/2010-04-01/Accounts/{sandbox.account_sid}/Messages.json"],
    )  # fmt: skip
    for round_ in range(4):
        for user in users:
            sandbox.inbound(user, ROMA, f"mensaje {round_} de {user}")

    eventually(lambda: all_handled(webhook, 200), timeout=60, what="all 200 messages answered")
    sandbox.faults(fail_rate=0)

    stored = webhook.webhook.store.store.find_messages(direction="outbound")
    assert {
        m["status"] for m in webhook.webhook.store.store.find_messages(direction="inbound")
    } == {"answered"}
    for user in users:
        sent = [m["body"] for m in replies(sandbox, user)]
        recorded = [m["body"] for m in stored if m["user_number"] == user]
        assert sent == recorded and sent, user  # each reply once, in order


def test_lost_answers_from_openai_never_ask_twice_or_answer_twice_in_a_burst(sandbox, webhook):
    users = [f"+346001{n:05d}" for n in range(50)]
    sandbox.faults(phase="after", fail_rate=0.3, seed=11, retry_after=0, paths=["/v1/responses"])
    for round_ in range(4):
        for user in users:
            sandbox.inbound(user, ROMA, f"mensaje {round_} de {user}")

    eventually(lambda: all_handled(webhook, 200), timeout=60, what="all 200 messages answered")
    sandbox.faults(fail_rate=0)

    store = webhook.webhook.store.store
    assert {m["status"] for m in store.find_messages(direction="inbound")} == {"answered"}
    openai = sandbox.openai()
    for user in users:
        conversation = store.users.conversation("pizzeria-roma", user)[0]
        items = openai.conversations.items.list(conversation, order="asc", limit=100).data
        inputs = [item for item in items if item.type == "message" and item.role == "user"]
        answers = [item for item in items if item.type == "message" and item.role == "assistant"]
        assert len(inputs) == len(answers) == len(replies(sandbox, user)), user
        texts = [part.text for item in inputs for part in item.content]
        assert len(set(texts)) == len(texts), user  # each input once
