"""The control API: inbound deliveries signed as Twilio signs them, messages, counters, reset."""

from __future__ import annotations

from twilio.request_validator import RequestValidator
from twilio.rest.messaging.v2.channels_sender import ChannelsSenderList

SENDER = "+34910000101"
USER = "+34600000001"


def add_sender(sandbox, **webhook: str) -> None:
    request = ChannelsSenderList.MessagingV2ChannelsSenderRequestsCreate(
        {"sender_id": f"whatsapp:{SENDER}", "profile": {"name": "Pizzería Roma"},
         "webhook": webhook}
    )  # fmt: skip
    sandbox.twilio().messaging.v2.channels_senders.create(request)


def test_inbound_whatsapp_message_is_posted_signed_to_the_sender_webhook(sandbox, webhook_receiver):
    callback = f"{webhook_receiver.url}/twilio/inbound"
    add_sender(sandbox, callback_url=callback)

    result = sandbox.inbound(USER, SENDER, "hola", profile_name="Ana")

    [request] = webhook_receiver.wait_for(1)
    form = request.form
    assert form["MessageSid"] == result["sid"] and result["sid"].startswith("SM")
    assert (form["From"], form["To"]) == (f"whatsapp:{USER}", f"whatsapp:{SENDER}")
    assert form["Body"] == "hola"
    assert (form["AccountSid"], form["NumMedia"]) == (sandbox.account_sid, "0")
    assert (form["ProfileName"], form["WaId"]) == ("Ana", "34600000001")
    validator = RequestValidator(sandbox.auth_token)
    assert validator.validate(callback, form, request.headers["X-Twilio-Signature"])
    assert result["webhook"] == {
        "url": callback, "status": 200, "body": "<Response/>", "error": None
    }  # fmt: skip


def test_inbound_message_is_recorded_as_received(sandbox, webhook_receiver):
    add_sender(sandbox, callback_url=webhook_receiver.url)

    sid = sandbox.inbound(USER, SENDER, "hola")["sid"]

    [message] = sandbox.messages(direction="inbound")
    assert message["sid"] == sid
    assert (message["from"], message["to"], message["body"], message["status"]) == (
        f"whatsapp:{USER}", f"whatsapp:{SENDER}", "hola", "received",
    )  # fmt: skip
    assert sandbox.twilio().messages(sid).fetch().direction == "inbound"


def test_inbound_media_is_announced_with_its_content_type(sandbox, webhook_receiver):
    add_sender(sandbox, callback_url=webhook_receiver.url)

    sandbox.inbound(USER, SENDER, "", media_url="https://example.com/photo.jpg")

    form = webhook_receiver.wait_for(1)[0].form
    assert (form["NumMedia"], form["MediaUrl0"]) == ("1", "https://example.com/photo.jpg")
    assert form["MediaContentType0"] == "image/jpeg"


def test_inbound_sms_goes_to_the_numbers_sms_url(sandbox, webhook_receiver):
    [number] = sandbox.seed_numbers("+14155550100")
    sandbox.twilio().incoming_phone_numbers(number["sid"]).update(sms_url=webhook_receiver.url)

    result = sandbox.inbound("+14155550199", "+14155550100", "hi")

    form = webhook_receiver.wait_for(1)[0].form
    assert result["channel"] == "sms"
    assert (form["From"], form["To"]) == ("+14155550199", "+14155550100")
    assert "WaId" not in form


def test_inbound_sms_to_a_number_handed_to_an_application_never_reaches_its_sms_url(
    sandbox, webhook_receiver
):
    application, service = "AP" + "1" * 32, "MG" + "2" * 32
    [by_app] = sandbox.seed_numbers("+14155550100")
    sandbox.twilio().incoming_phone_numbers(by_app["sid"]).update(
        sms_url=webhook_receiver.url, sms_application_sid=application
    )
    [by_service] = sandbox.control(
        "POST", "numbers", {"numbers": ["+14155550101"], "sms_application_sid": service}
    )["incoming_phone_numbers"]
    sandbox.twilio().incoming_phone_numbers(by_service["sid"]).update(sms_url=webhook_receiver.url)

    to_app = sandbox.http.post("/__sandbox__/inbound", json={"from": USER, "to": "+14155550100"})
    to_service = sandbox.http.post(
        "/__sandbox__/inbound", json={"from": USER, "to": "+14155550101"}
    )

    assert to_app.status_code == 409 and application in to_app.json()["error"]
    assert to_service.status_code == 409 and service in to_service.json()["error"]
    assert webhook_receiver.received == []


def test_failed_webhook_falls_back_to_the_fallback_url(sandbox, webhook_receiver):
    add_sender(sandbox, callback_url="http://127.0.0.1:9/unreachable",
               fallback_url=f"{webhook_receiver.url}/fallback")  # fmt: skip

    result = sandbox.inbound(USER, SENDER, "hola")

    assert result["webhook"]["status"] == 0 and result["webhook"]["error"]
    assert result["fallback"]["status"] == 200
    assert webhook_receiver.wait_for(1)[0].path == "/fallback"


def test_webhook_status_and_body_are_reported(sandbox, webhook_receiver):
    webhook_receiver.status, webhook_receiver.body = 403, "forbidden"
    add_sender(sandbox, callback_url=webhook_receiver.url)

    result = sandbox.inbound(USER, SENDER, "hola")

    assert (result["webhook"]["status"], result["webhook"]["body"]) == (403, "forbidden")


def test_inbound_to_an_unknown_number_is_a_404(sandbox):
    response = sandbox.http.post("/__sandbox__/inbound", json={"from": USER, "to": SENDER})
    assert response.status_code == 404
    assert SENDER in response.json()["error"]


def test_inbound_to_a_sender_without_webhook_is_a_409(sandbox):
    add_sender(sandbox)
    response = sandbox.http.post("/__sandbox__/inbound", json={"from": USER, "to": SENDER})
    assert response.status_code == 409


def test_inbound_with_a_malformed_body_is_a_400(sandbox):
    assert sandbox.http.post("/__sandbox__/inbound", content=b"[").status_code == 400
    response = sandbox.http.post("/__sandbox__/inbound", json={"from": "ana", "to": SENDER})
    assert response.status_code == 400


def test_requests_are_counted_by_route_template_without_the_control_api(sandbox):
    client = sandbox.twilio()
    [number] = sandbox.seed_numbers("+14155550100")
    client.incoming_phone_numbers(number["sid"]).fetch()
    client.incoming_phone_numbers.list()
    sandbox.openai().vector_stores.list()

    counts = sandbox.requests()

    assert counts == {
        "total": 3,
        "by_route": {
            "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json": 1,
            "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json": 1,
            "GET /v1/vector_stores": 1,
        },
    }


def test_reset_empties_the_world(sandbox, webhook_receiver):
    add_sender(sandbox, callback_url=webhook_receiver.url)
    sandbox.inbound(USER, SENDER, "hola")
    sandbox.openai().vector_stores.create(name="kb")
    sandbox.faults(latency_ms=5)

    sandbox.reset()

    assert sandbox.twilio().messaging.v2.channels_senders.list(channel="whatsapp") == []
    assert sandbox.messages() == []
    assert list(sandbox.openai().vector_stores.list()) == []
    assert sandbox.control("GET", "faults")["latency_ms"] == 0
    assert sandbox.requests()["total"] == 2  # the two vendor list calls just above


def test_health_names_the_account(sandbox):
    assert sandbox.control("GET", "health") == {"ok": True, "account_sid": sandbox.account_sid}
