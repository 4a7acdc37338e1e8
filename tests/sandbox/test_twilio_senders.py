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


def test_deleted_sender_is_gone(sandbox):
    senders = sandbox.twilio().messaging.v2.channels_senders
    sender = senders.create(create_request())

    assert senders(sender.sid).delete() is True

    with pytest.raises(TwilioRestException) as raised:
        senders(sender.sid).fetch()
    assert raised.value.status == 404 and raised.value.code == 20404
    assert senders.list(channel="whatsapp") == []


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


@pytest.mark.invalid_vendor_requests
def test_listing_without_a_channel_is_refused_as_the_spec_requires_it(sandbox):
    sandbox.twilio().messaging.v2.channels_senders.create(create_request())
    auth = (sandbox.account_sid, sandbox.auth_token)

    missing = sandbox.http.get("/v2/Channels/Senders", auth=auth)
    unknown = sandbox.http.get("/v2/Channels/Senders?Channel=telegram", auth=auth)
    rcs = sandbox.http.get("/v2/Channels/Senders?Channel=rcs", auth=auth)

    assert (missing.status_code, missing.json()["code"]) == (400, 20001)
    assert "Channel" in missing.json()["message"]
    assert unknown.status_code == 400
    assert rcs.status_code == 200 and rcs.json()["senders"] == []


def test_update_is_answered_202(sandbox):
    sender = sandbox.twilio().messaging.v2.channels_senders.create(create_request())

    response = sandbox.http.post(
        f"/v2/Channels/Senders/{sender.sid}",
        json={"profile": {"about": "Nueva carta"}},
        auth=(sandbox.account_sid, sandbox.auth_token),
    )

    assert response.status_code == 202
    assert response.json()["profile"]["about"] == "Nueva carta"
    assert "display_name_status" not in response.json()  # only when the request named a name


def rename(sandbox, sid: str, name: str, **profile: str):
    senders = sandbox.twilio().messaging.v2.channels_senders
    return senders(sid).update(Update({"profile": {"name": name, **profile}}))


def review(sandbox, sid: str, decision: str | None = None, reason: str | None = None):
    path = f"/__sandbox__/senders/{sid}/display_name"
    if decision is None:
        return sandbox.http.get(path)
    return sandbox.http.post(path, json={"decision": decision, "reason": reason})


def test_new_display_name_waits_for_metas_review_and_keeps_the_active_name(sandbox):
    senders = sandbox.twilio().messaging.v2.channels_senders
    sender = senders.create(create_request())
    assert sender.pending_display_name is None  # absent until a first name change

    updated = rename(sandbox, sender.sid, "Roma Pizzería", about="Nueva carta")
    fetched = senders(sender.sid).fetch()

    assert updated.display_name_status == "updating"
    assert updated.profile["name"] == "Pizzería Roma"
    assert updated.profile["about"] == "Nueva carta"  # the rest applies at once
    assert (fetched.pending_display_name, fetched.pending_display_name_status) == (
        "Roma Pizzería",
        "PENDING_REVIEW",
    )
    assert fetched.pending_display_name_status_date is not None
    assert fetched.profile["name"] == "Pizzería Roma"
    assert fetched.display_name_status is None  # an update's answer only


def test_display_name_statuses_follow_the_sdk_docstrings(sandbox):
    senders = sandbox.twilio().messaging.v2.channels_senders
    sender = senders.create(create_request())

    unchanged = rename(sandbox, sender.sid, "Pizzería Roma")
    submitted = rename(sandbox, sender.sid, "Roma Pizzería")
    again = rename(sandbox, sender.sid, "Roma Pizzería")
    with pytest.raises(TwilioRestException) as raised:
        rename(sandbox, sender.sid, "Pizzería Roma Centro")

    assert unchanged.display_name_status == "no_change"
    assert senders(sender.sid).fetch().pending_display_name == "Roma Pizzería"
    assert (submitted.display_name_status, again.display_name_status) == (
        "updating",
        "pending_review",
    )
    assert (raised.value.status, raised.value.code) == (409, 63128)


def test_approved_display_name_becomes_the_name(sandbox):
    senders = sandbox.twilio().messaging.v2.channels_senders
    sender = senders.create(create_request())
    rename(sandbox, sender.sid, "Roma Pizzería")

    decided = review(sandbox, sender.sid, "approved")
    fetched = senders(sender.sid).fetch()

    assert decided.status_code == 200
    assert fetched.profile["name"] == "Roma Pizzería"
    assert fetched.pending_display_name_status == "COMPLETED"


def test_declined_display_name_keeps_the_old_name_and_metas_reason_stays_at_meta(sandbox):
    senders = sandbox.twilio().messaging.v2.channels_senders
    sender = senders.create(create_request())
    rename(sandbox, sender.sid, "PIZZA!!!")

    review(sandbox, sender.sid, "declined", "NAME_FORMAT_UNACCEPTABLE")
    raw = sandbox.http.get(
        f"/v2/Channels/Senders/{sender.sid}", auth=(sandbox.account_sid, sandbox.auth_token)
    )
    shown = review(sandbox, sender.sid).json()

    assert raw.json()["profile"]["name"] == "Pizzería Roma"
    assert raw.json()["pending_display_name"] == "PIZZA!!!"
    assert raw.json()["pending_display_name_status"] == "DECLINED"
    assert "NAME_FORMAT_UNACCEPTABLE" not in raw.text  # Twilio cannot read Meta's reason
    assert shown["rejection_reason"] == "NAME_FORMAT_UNACCEPTABLE"
    assert rename(sandbox, sender.sid, "PIZZA!!!").display_name_status == "updating"


def test_a_review_decision_needs_a_name_under_review(sandbox):
    sender = sandbox.twilio().messaging.v2.channels_senders.create(create_request())

    nothing_to_decide = review(sandbox, sender.sid, "approved")
    unknown_sender = review(sandbox, "XE" + "0" * 32, "approved")
    rename(sandbox, sender.sid, "Roma Pizzería")
    bad_decision = review(sandbox, sender.sid, "maybe")

    assert nothing_to_decide.status_code == 409
    assert unknown_sender.status_code == 404
    assert bad_decision.status_code == 400
