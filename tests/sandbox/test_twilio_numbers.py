"""IncomingPhoneNumbers (2010 API) through the unmodified twilio SDK."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException


def test_seeded_numbers_are_listed_with_twilio_defaults(sandbox):
    sandbox.seed_numbers("+14155550100")

    [number] = sandbox.twilio().incoming_phone_numbers.list()

    assert number.sid.startswith("PN")
    assert number.phone_number == "+14155550100"
    assert number.friendly_name == "(415) 555-0100"
    assert number.sms_method == "POST" and number.sms_url == ""
    assert number.account_sid == sandbox.account_sid


def test_numbers_from_the_command_line_are_seeded(start_sandbox):
    sandbox = start_sandbox(numbers=("+14155550100", "+14155550101"))

    numbers = sandbox.twilio().incoming_phone_numbers.list()

    assert sorted(n.phone_number for n in numbers) == ["+14155550100", "+14155550101"]


def test_seeding_the_same_number_twice_keeps_one(sandbox):
    sandbox.seed_numbers("+14155550100")
    sandbox.seed_numbers("+14155550100")

    assert len(sandbox.twilio().incoming_phone_numbers.list()) == 1


def test_update_sets_sms_webhook_status_callback_and_ownership_mark(sandbox):
    [seeded] = sandbox.seed_numbers("+14155550100")
    numbers = sandbox.twilio().incoming_phone_numbers

    numbers(seeded["sid"]).update(
        sms_url="https://bots.example.com/twilio/inbound",
        sms_method="POST",
        status_callback="https://bots.example.com/twilio/status",
        friendly_name="horizon:farmacia-sol",
    )
    fetched = numbers(seeded["sid"]).fetch()

    assert fetched.sms_url == "https://bots.example.com/twilio/inbound"
    assert fetched.sms_method == "POST"
    assert fetched.status_callback == "https://bots.example.com/twilio/status"
    assert fetched.friendly_name == "horizon:farmacia-sol"


def test_list_filters_by_phone_number_and_friendly_name(sandbox):
    [first, _] = sandbox.seed_numbers("+14155550100", "+34910000200")
    numbers = sandbox.twilio().incoming_phone_numbers
    numbers(first["sid"]).update(friendly_name="horizon:shop")

    assert [n.sid for n in numbers.list(phone_number="+14155550100")] == [first["sid"]]
    assert [n.sid for n in numbers.list(phone_number="415555")] == [first["sid"]]
    assert [n.sid for n in numbers.list(friendly_name="horizon:shop")] == [first["sid"]]
    assert numbers.list(friendly_name="horizon:other") == []


def test_list_pages_past_the_first_page(sandbox):
    seeded = sandbox.seed_numbers(*(f"+1415555010{i}" for i in range(5)))

    listed = sandbox.twilio().incoming_phone_numbers.list(page_size=2)
    page = sandbox.twilio().incoming_phone_numbers.page(page_size=2)

    assert [n.sid for n in listed] == [n["sid"] for n in seeded]
    assert page.next_page_url.startswith("https://api.twilio.com/2010-04-01/Accounts/")
    assert sandbox.requests()["by_route"][
        "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json"
    ] == 4  # fmt: skip


def test_unknown_number_is_a_twilio_404(sandbox):
    with pytest.raises(TwilioRestException) as raised:
        sandbox.twilio().incoming_phone_numbers("PN" + "0" * 32).fetch()
    assert raised.value.status == 404 and raised.value.code == 20404


@pytest.mark.invalid_vendor_requests
def test_invalid_sms_method_is_a_400(sandbox):
    [seeded] = sandbox.seed_numbers("+14155550100")
    with pytest.raises(TwilioRestException) as raised:
        sandbox.twilio().incoming_phone_numbers(seeded["sid"]).update(sms_method="PATCH")
    assert raised.value.status == 400


def test_seeding_a_malformed_number_is_refused(sandbox):
    response = sandbox.http.post("/__sandbox__/numbers", json={"numbers": ["555-0100"]})
    assert response.status_code == 400
    assert "E.164" in response.json()["error"]


@pytest.mark.invalid_vendor_requests
def test_sms_application_sid_takes_an_application_sid_only(sandbox):
    [seeded] = sandbox.seed_numbers("+14155550100")
    number = sandbox.twilio().incoming_phone_numbers(seeded["sid"])

    handed = number.update(sms_application_sid="AP" + "a" * 32)
    refused = []
    for value in ("MG" + "a" * 32, ""):  # a service takes numbers itself; "" is no SID
        with pytest.raises(TwilioRestException) as raised:
            number.update(sms_application_sid=value)
        refused.append(raised.value.status)

    assert handed.sms_application_sid == "AP" + "a" * 32
    assert refused == [400, 400]


@pytest.mark.invalid_vendor_requests
def test_a_method_is_get_or_post_in_capitals(sandbox):
    [seeded] = sandbox.seed_numbers("+14155550100")

    with pytest.raises(TwilioRestException) as raised:
        sandbox.twilio().incoming_phone_numbers(seeded["sid"]).update(sms_method="post")

    assert (raised.value.status, raised.value.code) == (400, 21100)


def test_seeding_can_put_numbers_in_a_messaging_service(sandbox):
    service = "MG" + "b" * 32

    seeded = sandbox.control(
        "POST", "numbers", {"numbers": ["+14155550100"], "sms_application_sid": service}
    )["incoming_phone_numbers"]
    refused = sandbox.http.post(
        "/__sandbox__/numbers", json={"numbers": ["+14155550101"], "sms_application_sid": "x"}
    )

    assert [n["sms_application_sid"] for n in seeded] == [service]
    assert sandbox.twilio().incoming_phone_numbers.list()[0].sms_application_sid == service
    assert refused.status_code == 400
