"""Messaging v2 Senders through the unmodified twilio SDK."""

from __future__ import annotations

import time

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest.messaging.v2.channels_sender import ChannelsSenderList

Create = ChannelsSenderList.MessagingV2ChannelsSenderRequestsCreate
Update = ChannelsSenderList.MessagingV2ChannelsSenderRequestsUpdate


def create_request(number: str = "+34910000101", **fields: object) -> Create:
    body = {
        "sender_id": f"whatsapp:{number}",
        "friendly_name": "horizon:pizzeria-roma",
        "webhook": {
            "callback_url": "https://bots.example.com/twilio/inbound",
            "callback_method": "POST",
            "status_callback_url": "https://bots.example.com/twilio/status",
        },
        "profile": {
            "name": "Pizzería Roma",
            "about": "Pizza al horno de leña",
            "emails": [{"email": "hola@pizzeriaroma.es", "label": "Email"}],
            "websites": ["https://pizzeriaroma.es"],
            "vertical": "Restaurant",
        },
    }
    return Create({**body, **fields})


def test_created_sender_carries_its_ownership_mark_webhook_and_profile(sandbox):
    senders = sandbox.twilio().messaging.v2.channels_senders

    sender = senders.create(create_request())

    assert sender.sid.startswith("XE") and len(sender.sid) == 34
    assert sender.sender_id == "whatsapp:+34910000101"
    assert sender.friendly_name == "horizon:pizzeria-roma"
    assert sender.webhook["callback_url"] == "https://bots.example.com/twilio/inbound"
    assert sender.webhook["status_callback_method"] == "POST"
    assert sender.profile["emails"] == [{"email": "hola@pizzeriaroma.es", "label": "Email"}]
    assert sender.profile["websites"] == [
        {"website": "https://pizzeriaroma.es", "label": "Website"}
    ]
    assert sender.url.endswith(f"/v2/Channels/Senders/{sender.sid}")


def test_new_sender_is_creating_then_online(start_sandbox):
    sandbox = start_sandbox(sender_online_after=0.3)
    senders = sandbox.twilio().messaging.v2.channels_senders

    sender = senders.create(create_request())
    assert sender.status == "CREATING"
    time.sleep(0.35)

    assert senders(sender.sid).fetch().status == "ONLINE"


def test_update_changes_only_the_given_fields(sandbox):
    senders = sandbox.twilio().messaging.v2.channels_senders
    sender = senders.create(create_request())

    updated = senders(sender.sid).update(
        Update({"webhook": {"callback_url": "https://new.example.com/twilio/inbound"},
                "profile": {"about": "Nueva carta"}})
    )  # fmt: skip

    assert updated.webhook["callback_url"] == "https://new.example.com/twilio/inbound"
    assert updated.webhook["status_callback_url"] == "https://bots.example.com/twilio/status"
    assert updated.profile["about"] == "Nueva carta"
    assert updated.profile["name"] == "Pizzería Roma"
    assert updated.friendly_name == "horizon:pizzeria-roma"
    assert senders(sender.sid).fetch().profile["about"] == "Nueva carta"


def test_list_pages_past_the_first_page(sandbox):
    senders = sandbox.twilio().messaging.v2.channels_senders
    for index in range(7):
        senders.create(create_request(f"+3491000010{index}"))

    first_page = senders.page(channel="whatsapp", page_size=3)
    listed = senders.list(channel="whatsapp", page_size=3)

    assert len(list(first_page)) == 3 and first_page.next_page_url
    assert [s.sender_id for s in listed] == [f"whatsapp:+3491000010{i}" for i in range(7)]
    assert sandbox.requests()["by_route"]["GET /v2/Channels/Senders"] == 4  # 1 + 3 pages


@pytest.mark.known_violation("senders-list-without-channel")
def test_deleted_sender_is_gone(sandbox):
    senders = sandbox.twilio().messaging.v2.channels_senders
    sender = senders.create(create_request())

    assert senders(sender.sid).delete() is True

    with pytest.raises(TwilioRestException) as raised:
        senders(sender.sid).fetch()
    assert raised.value.status == 404 and raised.value.code == 20404
    assert senders.list() == []


def test_duplicate_sender_id_is_refused(sandbox):
    senders = sandbox.twilio().messaging.v2.channels_senders
    senders.create(create_request())

    with pytest.raises(TwilioRestException) as raised:
        senders.create(create_request())
    assert raised.value.status == 409


@pytest.mark.parametrize(
    "fields",
    [
        {"sender_id": "+34910000101"},
        {"sender_id": "whatsapp:34910000101"},
        {"profile": {"about": "no name"}},
        {"profile": {"name": "X", "vertical": "Spaceships"}},
        {"webhook": {"callback_url": "ftp://example.com"}},
    ],
)
def test_invalid_sender_is_a_400_with_a_twilio_body(sandbox, fields):
    with pytest.raises(TwilioRestException) as raised:
        sandbox.twilio().messaging.v2.channels_senders.create(create_request(**fields))
    assert raised.value.status == 400 and raised.value.code == 20001


@pytest.mark.invalid_vendor_requests
def test_malformed_json_body_is_a_400_not_a_500(sandbox):
    response = sandbox.http.post(
        "/v2/Channels/Senders",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
        auth=(sandbox.account_sid, sandbox.auth_token),
    )
    assert response.status_code == 400
    assert response.json()["code"] == 20001
