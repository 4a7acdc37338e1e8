"""The contract checker itself: what it accepts and what it reports, on hand-made requests."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from tests.contracts.checker import Violation, check
from tests.contracts.known import KNOWN_DEFECTS, KNOWN_EXCEPTIONS, known_exception

MESSAGES = "/2010-04-01/Accounts/ACa11ce5baa11ce5baa11ce5baa11ce5ba/Messages.json"
SENDERS = "/v2/Channels/Senders"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MESSAGE = {
    "To": "whatsapp:+34600000001",
    "From": "whatsapp:+34910000101",
    "Body": "hola",
    "StatusCallback": "https://bots.example.com/twilio/status",
}
SENDER = {
    "sender_id": "whatsapp:+34910000101",
    "webhook": {
        "callback_url": "https://bots.example.com/twilio/inbound",
        "callback_method": "POST",
    },
    "profile": {"name": "Pizzería Roma", "about": "Pizza al horno de leña"},
}
RESPONSE = {
    "model": "gpt-5.4-mini",
    "instructions": "Eres el asistente de Pizzería Roma.",
    "input": [{"role": "user", "content": "¿Abrís hoy?"}],
    "conversation": "conv_123",
    "reasoning": {"effort": "low"},
    "max_output_tokens": 600,
}


def form(fields: dict | list) -> bytes:
    return urlencode(fields).encode()


def fields_of(violations: list[Violation]) -> list[str]:
    return [violation.field for violation in violations]


def test_a_valid_messages_create_form_passes():
    assert check("POST", MESSAGES, "", FORM, form(MESSAGE)) == []


def test_an_unknown_form_field_is_named_with_its_value():
    [violation] = check("POST", MESSAGES, "", FORM, form({**MESSAGE, "Bodyy": "hola"}))

    assert (violation.operation_id, violation.field, violation.value) == (
        "CreateMessage",
        "body.Bodyy",
        "hola",
    )
    assert str(violation) == (
        "CreateMessage (POST /2010-04-01/Accounts/{AccountSid}/Messages.json): "
        "body.Bodyy: not in the spec (got 'hola')"
    )


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("ValidityPeriod", "soon", "not an integer"),
        ("SmartEncoded", "yes", "not a boolean (true or false)"),
        ("MaxPrice", "cheap", "not a number"),
        (
            "MessagingServiceSid",
            "MG0123456789abcdef0123456789abcdeZ",
            "'MG0123456789abcdef0123456789abcdeZ' does not match '^MG[0-9a-fA-F]{32}$'",
        ),
        ("ContentRetention", "forever", "'forever' is not one of ['retain', 'discard']"),
    ],
)
def test_a_form_value_of_the_wrong_type_or_range_fails(field, value, reason):
    [violation] = check("POST", MESSAGES, "", FORM, form({**MESSAGE, field: value}))

    assert (violation.field, violation.reason) == (f"body.{field}", reason)


def test_form_arrays_are_the_name_repeated_and_scalars_may_not_repeat():
    media = [*MESSAGE.items(), ("MediaUrl", "https://x/1.jpg"), ("MediaUrl", "https://x/2.jpg")]
    twice = [*MESSAGE.items(), ("To", "whatsapp:+34600000002")]

    assert check("POST", MESSAGES, "", FORM, form(media)) == []
    assert [v.reason for v in check("POST", MESSAGES, "", FORM, form(twice))] == [
        "given 2 times, but it is not an array"
    ]


def test_a_required_form_field_must_be_given():
    body = form({"From": MESSAGE["From"], "Body": "hola"})

    assert [v.reason for v in check("POST", MESSAGES, "", FORM, body)] == [
        "'To' is a required property"
    ]


def test_query_parameters_are_known_typed_and_required_ones_given():
    assert check("GET", SENDERS, "Channel=whatsapp&PageSize=20") == []
    assert fields_of(check("GET", SENDERS, "PageSize=20")) == ["query.Channel"]
    assert fields_of(check("GET", SENDERS, "Channel=whatsapp&Limit=20")) == ["query.Limit"]
    assert [v.reason for v in check("GET", SENDERS, "Channel=whatsapp&PageSize=0")] == [
        "0 is less than the minimum of 1"
    ]


def test_path_parameters_must_match_their_pattern():
    [violation, _] = check("GET", f"{SENDERS}/XE123")  # too short, and not the pattern

    assert violation.field == "path.Sid"


def test_a_sender_create_with_an_unknown_property_fails_at_any_depth():
    top = {**SENDER, "colour": "red"}
    nested = {**SENDER, "profile": {**SENDER["profile"], "slogan": "¡La mejor!"}}

    assert check("POST", SENDERS, "", JSON, json.dumps(SENDER).encode()) == []
    assert fields_of(check("POST", SENDERS, "", JSON, json.dumps(top).encode())) == ["body.colour"]
    assert fields_of(check("POST", SENDERS, "", JSON, json.dumps(nested).encode())) == [
        "body.profile.slogan"
    ]


def test_openapi_30_nullable_accepts_null():
    body = {**SENDER, "profile": {**SENDER["profile"], "about": None}, "configuration": None}

    assert check("POST", SENDERS, "", JSON, json.dumps(body).encode()) == []


def test_a_responses_body_with_an_invalid_reasoning_effort_fails():
    body = {**RESPONSE, "reasoning": {"effort": "extreme"}}

    [violation] = check("POST", "/v1/responses", "", JSON, json.dumps(body).encode())

    assert (violation.operation_id, violation.field, violation.value) == (
        "createResponse",
        "body.reasoning.effort",
        "extreme",
    )
    assert "is not one of" in violation.reason


def test_a_valid_responses_body_passes_and_an_unknown_parameter_fails():
    assert check("POST", "/v1/responses", "", JSON, json.dumps(RESPONSE).encode()) == []
    typo = json.dumps({**RESPONSE, "max_tokens": 600}).encode()
    assert fields_of(check("POST", "/v1/responses", "", JSON, typo)) == ["body.max_tokens"]


def test_an_undocumented_endpoint_fails():
    [violation] = check("GET", "/v1/assistants")

    assert (violation.field, violation.reason) == (
        "endpoint",
        "the vendor's published spec has no such endpoint",
    )


def test_a_documented_path_with_another_method_fails():
    [violation] = check("PUT", SENDERS)

    assert violation.reason == "the spec has this path only for GET, POST"


def test_a_body_in_a_media_type_the_operation_does_not_take_fails():
    [violation] = check("POST", MESSAGES, "", JSON, json.dumps(MESSAGE).encode())

    assert (violation.field, violation.reason) == (
        "content-type",
        "the operation takes application/x-www-form-urlencoded",
    )


def test_multipart_upload_is_checked_by_field_names_and_values():
    def upload(*fields: tuple[str, str, str | None]) -> tuple[str, bytes]:
        parts = []
        for name, value, filename in fields:
            disposition = f'form-data; name="{name}"'
            if filename:
                disposition += f'; filename="{filename}"'
            parts.append(f"--b\r\nContent-Disposition: {disposition}\r\n\r\n{value}\r\n")
        return "multipart/form-data; boundary=b", ("".join(parts) + "--b--\r\n").encode()

    good = upload(("file", "# Menú", "menu.md"), ("purpose", "assistants", None))
    unknown = upload(("file", "x", "menu.md"), ("purpose", "assistants", None), ("tag", "x", None))
    bad_purpose = upload(("file", "x", "menu.md"), ("purpose", "memories", None))
    no_purpose = upload(("file", "x", "menu.md"))

    assert check("POST", "/v1/files", "", *good) == []
    assert fields_of(check("POST", "/v1/files", "", *unknown)) == ["body.tag"]
    assert fields_of(check("POST", "/v1/files", "", *bad_purpose)) == ["body.purpose"]
    assert [v.reason for v in check("POST", "/v1/files", "", *no_purpose)] == [
        "'purpose' is a required property"
    ]


def test_sender_friendly_name_is_a_known_exception_and_nothing_else_is():
    body = json.dumps({**SENDER, "friendly_name": "horizon:pizzeria-roma"}).encode()

    [violation] = check("POST", SENDERS, "", JSON, body)

    assert known_exception(violation).id == "sender-friendly-name"
    other = check("POST", SENDERS, "", JSON, json.dumps({**SENDER, "label": "x"}).encode())
    assert [known_exception(v) for v in other] == [None]


def test_every_known_entry_says_why_and_where_from():
    entries = KNOWN_EXCEPTIONS + KNOWN_DEFECTS

    assert len({entry.id for entry in entries}) == len(entries)
    assert all(entry.reason and entry.source and entry.operations for entry in entries)
