"""Two webhooks on one database, as replicas run: every message answered once, in order.

Once on a SQLite file, once on PostgreSQL (see `database_url` in tests/conftest.py).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from horizon.webhook.server import start_in_thread
from horizon.worker.reply_worker import WorkerOptions

from .conftest import Signer
from .test_end_to_end import ROMA, SOL, eventually, replies

USERS = [f"+3462000{n:04d}" for n in range(8)]
MESSAGES_EACH = 4


@pytest.fixture
def replicas(sandbox, clients_dir, database_url):
    settings = sandbox.settings(
        HORIZON_CLIENTS_DIR=str(clients_dir), HORIZON_DATABASE_URL=database_url
    )
    options = WorkerOptions(coalesce_window=0.2)
    running = [start_in_thread(settings, options=options) for _ in range(2)]
    sandbox.add_senders([ROMA, SOL], f"{running[0].url}/twilio/inbound")
    yield running
    for webhook in running:
        webhook.stop()


def deliver(auth_token: str, webhook, user: str, to: str, body: str, sid: str) -> int:
    """Post a message to `webhook` signed as Twilio signs it for that webhook's URL."""
    params = {"MessageSid": sid, "From": f"whatsapp:{user}", "To": f"whatsapp:{to}", "Body": body}
    form = Signer(auth_token, webhook.public_url).form("/twilio/inbound", params)
    url = f"{webhook.url}/twilio/inbound"
    return httpx.post(url, content=form["body"], headers=form["headers"]).status_code


def test_two_webhooks_on_one_database_answer_every_message_once_in_order(sandbox, replicas):
    sends = []
    for n in range(MESSAGES_EACH):
        for u, user in enumerate(USERS):
            to = ROMA if u % 2 else SOL
            sid = f"SM{u:016x}{n:016x}"
            sends.append((replicas[(u + n) % 2], user, to, f"u{u}-m{n}", sid))

    def send_user(u: int) -> list[int]:  # each user's messages in order, users in parallel
        mine = [send for send in sends if send[3].startswith(f"u{u}-")]
        return [deliver(sandbox.auth_token, *send) for send in mine]

    with ThreadPoolExecutor(len(USERS)) as pool:
        statuses = [status for done in pool.map(send_user, range(len(USERS))) for status in done]
    assert statuses == [200] * len(sends)

    store = replicas[0].webhook.store.store

    def all_answered() -> bool:
        found = [m["status"] for m in store.find_messages(direction="inbound")]
        return len(found) == len(sends) and set(found) == {"answered"}

    eventually(all_answered, timeout=30, what="every message answered")
    for u, user in enumerate(USERS):
        bodies = [reply["body"] for reply in replies(sandbox, user)]
        quoted = [token for body in bodies for token in re.findall(rf"u{u}-m\d", body)]
        assert quoted == [f"u{u}-m{n}" for n in range(MESSAGES_EACH)], (user, bodies)
