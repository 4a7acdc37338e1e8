"""The reply outbox end to end: a Twilio outage delays replies instead of losing them.

Twilio's Messages API is made to answer 503 (the sandbox's faults) while users write; the
webhooks run with the outbox's timings shrunk (tries every few tenths of a second, a
deadline of seconds) so an outage of minutes plays out in a few seconds.
"""

from __future__ import annotations

import logging
import re
import time

import httpx
import pytest

from horizon.vendors.retry import RetryPolicy
from horizon.webhook.server import start_in_thread
from horizon.worker.reply_worker import WorkerOptions

from .test_end_to_end import ANA, ROMA, eventually, inbound_statuses, replies
from .test_replicas import deliver

USERS = ["+34630000001", "+34630000002", "+34630000003"]
MESSAGES_EACH = 3
OUTBOX = WorkerOptions(
    coalesce_window=0,
    sweep_interval=0.1,
    send_policy=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.05, budget=0.5),
    outbox_backoff=RetryPolicy(base_delay=0.2, max_delay=0.5),
)
FALLBACK = "Lo siento, ahora no puedo responder."


def messages_path(sandbox) -> str:
    return f"/2010-04-01/Accounts/{sandbox.account_sid}/Messages.json"


def twilio_down(sandbox, phase: str = "before") -> None:
    """Every Messages API request (sends and listings) answers 503 from now on."""
    sandbox.faults(
        fail_rate=1.0, status=503, retry_after=0, phase=phase, paths=[messages_path(sandbox)]
    )


def twilio_up(sandbox) -> None:
    sandbox.faults(fail_rate=0)


def outbox_gauge(webhook, client: str = "pizzeria-roma") -> float | None:
    registry = webhook.webhook.metrics.registry
    return registry.get_sample_value("horizon_outbox_replies", {"client": client})


def events(caplog, name: str) -> list[dict]:
    return [r.horizon for r in caplog.records if getattr(r, "horizon", {}).get("event") == name]


def tried_again(queued: list[dict], turns: int) -> bool:
    """True once `turns` turns have each gone back to the outbox at least twice."""
    failures = {event["turn"]: event["failures"] for event in queued}
    return len(failures) == turns and min(failures.values()) >= 2


@pytest.fixture
def start_webhook(sandbox, clients_dir, tmp_path):
    """`start_webhook(deadline=…, database_url=…)`: webhooks with the outbox's timings shrunk."""
    started = []

    def start(deadline: str = "60", database_url: str | None = None, options=OUTBOX):
        settings = sandbox.settings(
            HORIZON_CLIENTS_DIR=str(clients_dir),
            HORIZON_DATABASE_URL=database_url or f"sqlite:///{tmp_path}/h.db",
            HORIZON_REPLY_DEADLINE=deadline,
        )
        running = start_in_thread(settings, options=options)
        if not started:
            sandbox.add_senders([ROMA], f"{running.url}/twilio/inbound")
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def test_replies_held_up_by_a_twilio_outage_are_each_sent_once_in_order_after_it(
    sandbox, database_url, start_webhook, caplog
):
    replicas = [start_webhook(database_url=database_url) for _ in range(2)]
    twilio_down(sandbox)
    with caplog.at_level(logging.INFO, logger="horizon"):
        for n in range(MESSAGES_EACH):
            for u, user in enumerate(USERS):
                replica = replicas[(u + n) % 2]
                sid = f"SM{u:016x}{n:016x}"
                assert deliver(sandbox.auth_token, replica, user, ROMA, f"u{u}-m{n}", sid) == 200
            time.sleep(0.3)  # each message its own turn, where the queue lets it

        eventually(
            lambda: outbox_gauge(replicas[1]) == len(USERS),
            what="every user's first reply waiting in the outbox",
        )
        eventually(
            lambda: tried_again(events(caplog, "outbox_queued"), len(USERS)),
            what="each reply tried again from the outbox, with Twilio still down",
        )
        assert replies(sandbox) == []
        assert set(inbound_statuses(replicas[0])) == {"queued"}
        twilio_up(sandbox)

        store = replicas[0].webhook.store.store
        eventually(
            lambda: set(inbound_statuses(replicas[0])) == {"answered"},
            timeout=30,
            what="every message answered",
        )
    stored = store.find_messages(direction="outbound")
    for u, user in enumerate(USERS):
        sent = [reply["body"] for reply in replies(sandbox, user)]
        assert sent == [m["body"] for m in stored if m["user_number"] == user]
        quoted = [token for body in sent for token in re.findall(rf"u{u}-m\d", body)]
        assert quoted == [f"u{u}-m{n}" for n in range(MESSAGES_EACH)], (user, sent)
    assert events(caplog, "outbox_sent")
    empty = 'horizon_outbox_replies{client="pizzeria-roma"} 0.0'
    eventually(
        lambda: empty in httpx.get(f"{replicas[0].url}/metrics").text,
        what="the outbox shown empty",
    )


def test_a_reply_sent_while_twilio_answered_503_is_found_not_sent_again(
    sandbox, start_webhook, caplog
):
    webhook = start_webhook()
    twilio_down(sandbox, phase="after")  # each send goes out, and its answer is a 503
    with caplog.at_level(logging.INFO, logger="horizon"):
        sandbox.inbound(ANA, ROMA, "¿abrís hoy?")
        eventually(lambda: events(caplog, "outbox_queued"), what="the reply in the outbox")
        twilio_up(sandbox)
        eventually(lambda: inbound_statuses(webhook) == ["answered"], what="the message answered")

    [reply] = replies(sandbox, ANA)
    assert "¿abrís hoy?" in reply["body"]
    assert events(caplog, "part_found_sent")
    [stored] = webhook.webhook.store.store.find_messages(direction="outbound")
    assert stored["sid"] == reply["sid"]


# A back-off longer than the deadline: after the turn's own tries the reply waits for its
# last try, at the deadline, by when the test has brought Twilio back.
LAST_TRY_AT_DEADLINE = WorkerOptions(
    coalesce_window=0,
    sweep_interval=0.1,
    send_policy=OUTBOX.send_policy,
    outbox_backoff=RetryPolicy(base_delay=30.0, max_delay=30.0),
)


def test_past_the_deadline_the_user_gets_the_fallback_and_the_message_fails(
    sandbox, start_webhook, caplog
):
    webhook = start_webhook(deadline="2s", options=LAST_TRY_AT_DEADLINE)
    twilio_down(sandbox)
    with caplog.at_level(logging.INFO, logger="horizon"):
        sandbox.inbound(ANA, ROMA, "¿tenéis mesa?")
        eventually(lambda: events(caplog, "outbox_queued"), what="the reply in the outbox")
        twilio_up(sandbox)
        eventually(lambda: inbound_statuses(webhook) == ["failed"], what="the message failed")

    assert [reply["body"] for reply in replies(sandbox, ANA)] == [FALLBACK]
    [expired] = events(caplog, "outbox_expired")
    assert expired["fallback"] is True
    [stored] = webhook.webhook.store.store.find_messages(direction="inbound")
    assert "deadline" in stored["error"]


def test_at_the_deadline_a_reply_whose_answer_was_lost_is_found_and_no_fallback_follows(
    sandbox, start_webhook, caplog
):
    webhook = start_webhook(deadline="2s", options=LAST_TRY_AT_DEADLINE)
    twilio_down(sandbox, phase="after")  # the reply goes out; Twilio's answer is a 503
    with caplog.at_level(logging.INFO, logger="horizon"):
        sandbox.inbound(ANA, ROMA, "¿a qué hora cerráis?")
        eventually(lambda: events(caplog, "outbox_queued"), what="the reply in the outbox")
        twilio_up(sandbox)
        eventually(lambda: inbound_statuses(webhook) == ["answered"], what="the message answered")

    [reply] = replies(sandbox, ANA)
    assert "¿a qué hora cerráis?" in reply["body"]
    assert events(caplog, "outbox_expired") == []
    [stored] = webhook.webhook.store.store.find_messages(direction="outbound")
    assert stored["sid"] == reply["sid"]


def test_past_the_deadline_with_twilio_still_down_the_message_fails_and_nothing_follows(
    sandbox, start_webhook
):
    webhook = start_webhook(deadline="1s")
    twilio_down(sandbox)
    sandbox.inbound(ANA, ROMA, "hola")
    eventually(lambda: inbound_statuses(webhook) == ["failed"], what="the message failed")
    twilio_up(sandbox)
    time.sleep(0.5)  # a try from the outbox, were one left, would be out by now
    assert replies(sandbox) == []
    assert outbox_gauge(webhook) in (0, None)


def test_a_reply_waiting_in_the_outbox_is_sent_after_a_restart(sandbox, start_webhook):
    first = start_webhook()
    twilio_down(sandbox)
    sandbox.inbound(ANA, ROMA, "primero")
    eventually(lambda: outbox_gauge(first) == 1, what="the reply in the outbox")
    sandbox.inbound(ANA, ROMA, "segundo")
    first.stop()

    twilio_up(sandbox)
    second = start_webhook()
    eventually(lambda: inbound_statuses(second) == ["answered", "answered"], what="both answered")
    bodies = [reply["body"] for reply in replies(sandbox, ANA)]
    assert len(bodies) == 2
    assert "primero" in bodies[0] and "segundo" in bodies[1]
