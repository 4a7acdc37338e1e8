"""`horizon purge`: old text is blanked, its rows stay, and recent text is left alone."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from horizon.cli import main
from horizon.store import InboundMessage
from horizon.store.retention import purge_bodies
from horizon.store.schema import messages, turns
from tests.traffic import ANA, LUIS, ROMA, converse, figures, serving, table_rows
from tests.webhook.conftest import write_clients

DAY = 86400.0
MEDIA = json.dumps([{"url": "https://api.twilio.com/media/ME1", "content_type": "image/jpeg"}])


def age(store, user: str, days: float) -> None:
    """Move `user`'s messages and turns `days` into the past (as if sent then)."""
    seconds = days * DAY
    with store.engine.begin() as connection:
        connection.execute(
            update(messages)
            .where(messages.c.user_number == user)
            .values(created_at=messages.c.created_at - seconds)
        )
        connection.execute(
            update(turns)
            .where(turns.c.user_number == user)
            .values(started_at=turns.c.started_at - seconds)
        )


@pytest.fixture
def aged(sandbox, tmp_path, database_url):
    """ANA wrote 200 days ago (once with a photo), LUIS today; one old message still queued."""
    clients_dir = write_clients(tmp_path / "clients")
    with serving(sandbox, clients_dir, database_url) as webhook:
        converse(sandbox, webhook, [(ANA, ROMA, "mi pedido"), (LUIS, ROMA, "una mesa")])
        store = webhook.webhook.store.store
    with store.engine.begin() as connection:
        first = min(m["id"] for m in store.find_messages(user_number=ANA))
        connection.execute(update(messages).where(messages.c.id == first).values(media=MEDIA))
    age(store, ANA, 200)
    waiting = InboundMessage("SM" + "e" * 32, "+34600000009", ROMA, "whatsapp", "¿y?", "x")
    store.queue.record_inbound(waiting)
    age(store, "+34600000009", 200)
    return store, database_url


def test_purge_blanks_only_old_text_and_keeps_every_row_and_figure(aged):
    store, database_url = aged
    before, figures_before = table_rows(store), figures(store)

    result = CliRunner().invoke(
        main, ["purge", "--older-than", "180d"], env={"HORIZON_DATABASE_URL": database_url}
    )

    assert result.exit_code == 0, result.output
    # ANA's inbound message and the reply part sent to her; her turn's one reply part.
    assert "Blanked the text of 2 messages and 1 turns from before " in result.output
    after = table_rows(store)
    assert {name: len(rows) for name, rows in after.items()} == {
        name: len(rows) for name, rows in before.items()
    }
    assert figures(store) == figures_before
    for row in after["messages"]:
        if row["user_number"] == ANA:
            assert (row["body"], row["media"]) == ("", None)
        else:
            assert row in before["messages"]  # LUIS's, and the one still queued, untouched
    [anas_turn] = [t for t in after["turns"] if t["user_number"] == ANA]
    assert json.loads(anas_turn["parts"]) == [""]
    assert [t for t in after["turns"] if t["user_number"] == LUIS] == [
        t for t in before["turns"] if t["user_number"] == LUIS
    ]
    again = purge_bodies(store, store.clock() - 180 * DAY)
    assert (again.messages, again.turns) == (0, 0)


@pytest.mark.parametrize(
    ("older_than", "reason"),
    [
        ("12h", "--older-than: '12h' is shorter than 1d"),
        ("soon", "--older-than: 'soon' is not a duration"),
    ],
)
def test_purge_refuses_a_cutoff_it_cannot_read_or_that_is_too_recent(older_than, reason, tmp_path):
    result = CliRunner().invoke(
        main,
        ["purge", "--older-than", older_than],
        env={"HORIZON_DATABASE_URL": f"sqlite:///{tmp_path}/h.db"},
    )
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith(f"Error: {reason}")
