"""`horizon forget`: a user's right to erasure, at OpenAI and in the store.

Order matters when something fails half-way. OpenAI first: the store holds the ids of
the user's conversations, so while any deletion at OpenAI fails, nothing is deleted from
the store and running `forget` again finds them all (one already gone counts as deleted).
Then every row of the user goes in one transaction: all of them, or none.

Which conversations: the pair's current one (`conversations`), and those the user's stored
responses belong to (a conversation is renewed after `memory_days` of silence; the store
keeps only the newest id, OpenAI's stored responses name the older ones for as long as
OpenAI keeps them). The responses themselves go too: the worker lets the Responses API
store them (its default), and each holds the user's words and the reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from horizon.store.erasure import erase_user, user_traces
from horizon.store.store import Store
from horizon.vendors.errors import VendorError
from horizon.vendors.retry import DEFAULT_POLICY, RetryPolicy, vendor_call

_SEPARATORS = re.compile(r"[\s().\-]")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


class ForgetError(ValueError):
    """A number that cannot be read, or a deletion OpenAI refused; one line for the user."""


def normalise_number(text: str) -> str:
    """`text` as E.164: `+34 600 00 00 01`, `whatsapp:+34600000001` and the like."""
    compact = _SEPARATORS.sub("", text.strip().removeprefix("whatsapp:"))
    if not _E164.match(compact):
        raise ForgetError(
            f"{text!r} is not a phone number in international form: '+', the country code "
            "and the number (e.g. +34 600 000 001)"
        )
    try:
        parsed = phonenumbers.parse(compact, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        raise ForgetError(f"{text!r} is not a possible phone number for its country code")
    return compact


@dataclass(frozen=True)
class ForgetReport:
    number: str
    client_id: str | None
    rows: dict[str, int]  # rows deleted per table
    conversations_deleted: tuple[str, ...]  # deleted now at OpenAI
    conversations_gone: tuple[str, ...]  # already gone at OpenAI (404)
    responses_deleted: tuple[str, ...]  # stored responses deleted now
    responses_gone: tuple[str, ...]  # no longer stored (expired, or deleted before)


def _not_found(error: VendorError) -> bool:
    return error.status == 404


def _conversation_of(openai, response_id: str, policy: RetryPolicy) -> str | None:
    """The conversation a stored response belongs to ("" if none); None once it is gone."""
    try:
        response = vendor_call(lambda: openai.responses.retrieve(response_id), policy)
    except VendorError as error:
        if _not_found(error):
            return None  # expired or deleted at OpenAI: it names no conversation any more
        raise
    return getattr(getattr(response, "conversation", None), "id", None) or ""


def _delete_all(delete, ids, policy: RetryPolicy) -> tuple[list[str], list[str]]:
    """Delete each id with `delete(id)`: (deleted now, already gone)."""
    deleted, gone = [], []
    for one in ids:
        try:
            vendor_call(lambda one=one: delete(one), policy)
            deleted.append(one)
        except VendorError as error:
            if not _not_found(error):
                raise
            gone.append(one)
    return deleted, gone


def forget_user(
    store: Store,
    openai,
    number: str,
    client_id: str | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> ForgetReport:
    """Delete `number`'s OpenAI conversations and stored responses, then its rows (of
    `client_id`, or all).

    `openai` is an `openai.OpenAI` client. Raises ForgetError, with the store untouched,
    when OpenAI will not delete something. Conversations go before responses: the stored
    responses are how a later run finds the older conversations.
    """
    number = normalise_number(number)
    traces = user_traces(store, number, client_id)
    try:
        conversations = list(traces.conversation_ids)
        stored, expired = [], []
        for response_id in traces.response_ids:
            conversation_id = _conversation_of(openai, response_id, policy)
            (expired if conversation_id is None else stored).append(response_id)
            if conversation_id and conversation_id not in conversations:
                conversations.append(conversation_id)
        deleted, gone = _delete_all(openai.conversations.delete, conversations, policy)
        responses, responses_gone = _delete_all(openai.responses.delete, stored, policy)
    except VendorError as error:
        raise ForgetError(
            f"OpenAI did not delete the user's data ({error}); nothing was deleted from the "
            "store: run `horizon forget` again"
        ) from None
    rows = erase_user(store, number, client_id)
    return ForgetReport(
        number,
        client_id,
        rows,
        tuple(deleted),
        tuple(gone),
        tuple(responses),
        tuple(expired + responses_gone),
    )
