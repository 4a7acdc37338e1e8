"""Messages (2010 API), status callbacks and the typing indicator, through the twilio SDK."""

from __future__ import annotations

import time

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest.messaging.v2.channels_sender import ChannelsSenderList

SENDER = "+34910000101"
USER = "+34600000001"


def add_sender(sandbox, number: str = SENDER, **webhook: str) -> None:
    request = ChannelsSenderList.MessagingV2ChannelsSenderRequestsCreate(
        {"sender_id": f"whatsapp:{number}", "profile": {"name": "Pizzería Roma"},
         "webhook": webhook or None}
    )  # fmt: skip
    sandbox.twilio().messaging.v2.channels_senders.create(request)


def user_writes(sandbox, user: str = USER, sender: str = SENDER) -> None:
    """The user's message opens WhatsApp's 24-hour window for replies from `sender`."""
    sandbox.inbound(user, sender, "hola")


def wait_until_delivered(sandbox, sid: str) -> None:
    for _ in range(200):
        if [m["status"] for m in sandbox.messages() if m["sid"] == sid] == ["delivered"]:
            return
        time.sleep(0.01)
    raise AssertionError(f"{sid} was never delivered")


def test_whatsapp_message_is_queued_then_sent_then_delivered(sandbox):
    add_sender(sandbox, callback_url="http://127.0.0.1:9/unused")
    user_writes(sandbox)
    client = sandbox.twilio()

    message = client.messages.create(from_=f"whatsapp:{SENDER}", to=f"whatsapp:{USER}", body="hola")
    assert message.status == "queued"
    assert message.sid.startswith("SM") and message.direction == "outbound-api"
    wait_until_delivered(sandbox, message.sid)

    fetched = client.messages(message.sid).fetch()
    assert (fetched.status, fetched.body, fetched.to) == ("delivered", "hola", f"whatsapp:{USER}")
    assert fetched.date_sent is not None


def test_status_callbacks_are_signed_and_report_each_transition(sandbox, webhook_receiver):
    add_sender(sandbox, callback_url="http://127.0.0.1:9/unused")
    user_writes(sandbox)
    callback = f"{webhook_receiver.url}/twilio/status"

    message = sandbox.twilio().messages.create(
        from_=f"whatsapp:{SENDER}", to=f"whatsapp:{USER}", body="hola", status_callback=callback
    )
    received = webhook_receiver.wait_for(2)

    assert [r.form["MessageStatus"] for r in received] == ["sent", "delivered"]
    validator = RequestValidator(sandbox.auth_token)
    for request in received:
        assert request.form["MessageSid"] == message.sid
        assert request.form["AccountSid"] == sandbox.account_sid
        assert request.form["From"] == f"whatsapp:{SENDER}"
        assert validator.validate(callback, request.form, request.headers["X-Twilio-Signature"])


def test_sender_status_callback_url_is_used_when_the_message_has_none(sandbox, webhook_receiver):
    add_sender(
        sandbox,
        callback_url="http://127.0.0.1:9/unused",
        status_callback_url=f"{webhook_receiver.url}/twilio/status",
    )
    user_writes(sandbox)

    sandbox.twilio().messages.create(from_=f"whatsapp:{SENDER}", to=f"whatsapp:{USER}", body="hi")

    assert [r.form["MessageStatus"] for r in webhook_receiver.wait_for(2)] == ["sent", "delivered"]


def test_a_whatsapp_reply_to_a_user_who_never_wrote_fails_with_63016(sandbox, webhook_receiver):
    add_sender(sandbox, status_callback_url=f"{webhook_receiver.url}/twilio/status")

    message = sandbox.twilio().messages.create(
        from_=f"whatsapp:{SENDER}", to=f"whatsapp:{USER}", body="hola"
    )

    assert message.status == "queued"  # accepted: the failure comes later, as on Twilio
    [callback] = webhook_receiver.wait_for(1)
    assert (callback.form["MessageStatus"], callback.form["ErrorCode"]) == ("failed", "63016")
    fetched = sandbox.twilio().messages(message.sid).fetch()
    assert (fetched.status, fetched.error_code) == ("failed", 63016)


def test_the_window_closes_24_hours_after_the_users_last_message(sandbox, webhook_receiver):
    add_sender(sandbox, callback_url="http://127.0.0.1:9/unused")
    user_writes(sandbox)
    key = f"{USER}>{SENDER}"
    window = sandbox.running.sandbox.world.get("whatsapp_windows", key)
    sandbox.running.sandbox.world.put("whatsapp_windows", key, {"since": window["since"] - 86401})
    callback = f"{webhook_receiver.url}/twilio/status"

    sandbox.twilio().messages.create(
        from_=f"whatsapp:{SENDER}", to=f"whatsapp:{USER}", body="hola", status_callback=callback
    )

    assert [r.form["ErrorCode"] for r in webhook_receiver.wait_for(1)] == ["63016"]


def test_length_counts_utf16_code_units_so_emoji_count_twice(sandbox):
    add_sender(sandbox, callback_url="http://127.0.0.1:9/unused")
    user_writes(sandbox)
    client = sandbox.twilio()
    send = lambda body: client.messages.create(  # noqa: E731
        from_=f"whatsapp:{SENDER}", to=f"whatsapp:{USER}", body=body
    )

    assert send("😀" * 800).status == "queued"  # 800 code points, 1,600 UTF-16 units
    with pytest.raises(TwilioRestException) as raised:
        send("😀" * 801)
    assert raised.value.code == 21617


def test_sms_is_sent_from_a_seeded_number(sandbox):
    sandbox.seed_numbers("+14155550100")

    message = sandbox.twilio().messages.create(from_="+14155550100", to="+14155550199", body="hi")

    assert message.from_ == "+14155550100" and message.status == "queued"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"to": ""}, 21604),
        ({"from_": None}, 21603),
        ({"body": None}, 21602),
        ({"body": "x" * 1601}, 21617),
        ({"to": "whatsapp:12345"}, 21211),
        ({"to": USER}, 21910),
        ({"from_": "whatsapp:+34999999999"}, 63007),
        ({"from_": "+14155550100", "to": "+14155550199"}, 21606),
    ],
)
def test_invalid_message_gets_twilio_error_code(sandbox, fields, code):
    add_sender(sandbox)
    params = {"from_": f"whatsapp:{SENDER}", "to": f"whatsapp:{USER}", "body": "hola", **fields}
    params = {name: value for name, value in params.items() if value is not None}

    with pytest.raises(TwilioRestException) as raised:
        sandbox.twilio().messages.create(**params)
    assert raised.value.status == 400 and raised.value.code == code


def test_list_is_newest_first_filters_and_pages(sandbox):
    add_sender(sandbox)
    client = sandbox.twilio()
    sent = [
        client.messages.create(
            from_=f"whatsapp:{SENDER}", to=f"whatsapp:+3460000000{i}", body=str(i)
        )
        for i in range(5)
    ]

    listed = client.messages.list(page_size=2)
    to_one = client.messages.list(to="whatsapp:+34600000001")

    assert [m.sid for m in listed] == [m.sid for m in reversed(sent)]
    assert [m.sid for m in to_one] == [sent[1].sid]
    routes = sandbox.requests()["by_route"]
    assert routes["GET /2010-04-01/Accounts/{AccountSid}/Messages.json"] == 4  # 3 pages + 1


def test_unknown_message_is_a_twilio_404(sandbox):
    with pytest.raises(TwilioRestException) as raised:
        sandbox.twilio().messages("SM" + "0" * 32).fetch()
    assert raised.value.code == 20404


def test_typing_indicator_answers_a_received_message(sandbox, webhook_receiver):
    add_sender(sandbox, callback_url=f"{webhook_receiver.url}/twilio/inbound")
    received = sandbox.inbound(USER, SENDER, "hola")

    indicator = sandbox.twilio().messaging.v2.typing_indicator.create(
        channel="whatsapp", message_id=received["sid"]
    )

    assert indicator.success is True
    assert sandbox.requests()["by_route"]["POST /v2/Indicators/Typing.json"] == 1


def test_typing_indicator_for_an_unknown_message_is_a_404(sandbox):
    with pytest.raises(TwilioRestException) as raised:
        sandbox.twilio().messaging.v2.typing_indicator.create(
            channel="whatsapp", message_id="SM" + "0" * 32
        )
    assert raised.value.status == 404
