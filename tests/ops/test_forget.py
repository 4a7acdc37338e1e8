"""`horizon forget`: a user's rows and OpenAI conversations go, everyone else's stay.

A webhook answers real traffic through the sandbox first; `forget` runs as the command.
"""

from __future__ import annotations

import openai
import pytest
from click.testing import CliRunner
from sqlalchemy import String, Text, or_, select

from horizon.cli import main
from horizon.ops.forget import ForgetError, forget_user
from horizon.store.schema import metadata, turns
from horizon.vendors.retry import RetryPolicy
from tests.traffic import ANA, LUIS, ROMA, SOL, converse, serving
from tests.webhook.conftest import write_clients

NOWHERE = "+34910009999"  # no client answers here: ANA's message to it is stored unrouted
TRAFFIC = [(ANA, ROMA, "hola"), (ANA, SOL, "¿ibuprofeno?"), (LUIS, ROMA, "¿mesa?")]


def rows_naming(store, number: str) -> dict[str, int]:
    """Rows of every table with `number` in any text column."""
    found = {}
    with store.engine.connect() as connection:
        for table in metadata.sorted_tables:
            texts = [c for c in table.columns if isinstance(c.type, String | Text)]
            if not texts:
                continue
            query = select(table).where(or_(*[column.contains(number) for column in texts]))
            count = len(connection.execute(query).all())
            if count:
                found[table.name] = count
    return found


@pytest.fixture
def served(sandbox, tmp_path, database_url):
    clients_dir = write_clients(tmp_path / "clients")
    with serving(sandbox, clients_dir, database_url) as webhook:
        sandbox.add_senders([NOWHERE], f"{webhook.url}/twilio/inbound")
        converse(sandbox, webhook, [*TRAFFIC, (ANA, NOWHERE, "¿hola?")])
        converse(sandbox, webhook, [(ANA, ROMA, "STOP")])  # an opt-out row too
        yield webhook, {**sandbox.env(), "HORIZON_DATABASE_URL": database_url}


def conversation_of(store, client_id: str, number: str) -> str:
    return store.users.conversation(client_id, number)[0]


def exists(sandbox, conversation_id: str) -> bool:
    try:
        sandbox.openai().conversations.retrieve(conversation_id)
    except openai.NotFoundError:
        return False
    return True


def test_forget_leaves_no_row_with_the_number_and_no_conversation_at_openai(sandbox, served):
    webhook, env = served
    store = webhook.webhook.store.store
    anas = [conversation_of(store, client, ANA) for client in ("pizzeria-roma", "farmacia-sol")]
    luis = conversation_of(store, "pizzeria-roma", LUIS)
    responses = response_ids(store, ANA)
    assert len(responses) == 2  # one per answered question; STOP is answered without the model
    before = rows_naming(store, ANA)
    assert set(before) >= {"messages", "turns", "work", "conversations", "opt_outs"}
    luis_rows = rows_naming(store, LUIS)

    result = CliRunner().invoke(main, ["forget", "+34 600 00 00 01"], env=env)

    assert result.exit_code == 0, result.output
    assert rows_naming(store, ANA) == {}
    assert rows_naming(store, LUIS) == luis_rows
    assert [exists(sandbox, c) for c in anas] == [False, False]
    assert exists(sandbox, luis)
    assert f"Forgot {ANA} (every client):" in result.output
    assert f"messages: {before['messages']} rows deleted" in result.output
    assert "OpenAI conversations: 2 deleted\n" in result.output
    assert "OpenAI stored responses: 2 deleted\n" in result.output
    assert [stored(sandbox, r) for r in responses] == [False, False]
    assert all(stored(sandbox, r) for r in response_ids(store, LUIS))
    assert "monthly_usage keeps per-client token totals" in result.output


def response_ids(store, number: str) -> list[str]:
    with store.engine.connect() as connection:
        query = select(turns.c.response_id).where(
            turns.c.user_number == number, turns.c.response_id.is_not(None)
        )
        return list(connection.execute(query).scalars())


def stored(sandbox, response_id: str) -> bool:
    try:
        sandbox.openai().responses.retrieve(response_id)
    except openai.NotFoundError:
        return False
    return True


def test_forget_with_a_client_keeps_the_users_other_clients(sandbox, served):
    webhook, env = served
    store = webhook.webhook.store.store
    roma, sol = (conversation_of(store, c, ANA) for c in ("pizzeria-roma", "farmacia-sol"))

    result = CliRunner().invoke(main, ["forget", ANA, "--client", "farmacia-sol"], env=env)

    assert result.exit_code == 0, result.output
    assert not store.find_messages(user_number=ANA, client_id="farmacia-sol")
    assert store.find_messages(user_number=ANA, client_id="pizzeria-roma")
    assert store.find_messages(user_number=ANA, client_id=None)  # unrouted: no client's
    assert (exists(sandbox, roma), exists(sandbox, sol)) == (True, False)


def test_a_conversation_already_gone_at_openai_counts_as_deleted(sandbox, served):
    webhook, env = served
    roma = conversation_of(webhook.webhook.store.store, "pizzeria-roma", ANA)
    sandbox.openai().conversations.delete(roma)

    result = CliRunner().invoke(main, ["forget", ANA], env=env)

    assert result.exit_code == 0, result.output
    assert "OpenAI conversations: 1 deleted, 1 already gone\n" in result.output
    assert rows_naming(webhook.webhook.store.store, ANA) == {}


def test_when_openai_refuses_nothing_is_deleted_from_the_store(sandbox, served):
    webhook, env = served
    store = webhook.webhook.store.store
    before = rows_naming(store, ANA)
    sandbox.faults(fail_rate=1.0, status=503, paths=["/v1/conversations"])
    policy = RetryPolicy(attempts=2, base_delay=0.01)

    with pytest.raises(ForgetError) as refused:
        forget_user(store, sandbox.openai(max_retries=0), ANA, policy=policy)

    sandbox.faults(fail_rate=0.0)
    assert "OpenAI did not delete the user's data (openai HTTP 503" in str(refused.value)
    assert "nothing was deleted from the store" in str(refused.value)
    assert rows_naming(store, ANA) == before
    assert forget_user(store, sandbox.openai(), ANA).conversations_deleted  # a re-run finishes


@pytest.mark.parametrize("number", ["600 000 001", "+34 600", "hola", "+0034600000001"])
def test_a_number_not_in_international_form_is_a_one_line_error(number, tmp_path):
    result = CliRunner().invoke(
        main, ["forget", number], env={"HORIZON_DATABASE_URL": f"sqlite:///{tmp_path}/h.db"}
    )
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith(f"Error: {number!r} is not a p")


def test_conversations_renewed_after_memory_days_are_found_through_stored_responses(
    sandbox, served
):
    webhook, env = served
    store = webhook.webhook.store.store
    old = conversation_of(store, "pizzeria-roma", ANA)
    # What the worker does after `memory_days` of silence: a new conversation replaces the
    # pair's id in the store; the old one is named only by the responses given in it.
    renewed = sandbox.openai().conversations.create(metadata={"client": "pizzeria-roma"})
    store.users.save_conversation("pizzeria-roma", ANA, renewed.id)

    result = CliRunner().invoke(main, ["forget", ANA], env=env)

    assert result.exit_code == 0, result.output
    assert "OpenAI conversations: 3 deleted" in result.output
    assert (exists(sandbox, old), exists(sandbox, renewed.id)) == (False, False)
