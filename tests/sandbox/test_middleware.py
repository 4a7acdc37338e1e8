"""Authentication and error bodies in each vendor's format, for every kind of bad request."""

from __future__ import annotations

import openai
import pytest
from twilio.base.exceptions import TwilioRestException


def test_wrong_twilio_credentials_get_twilio_20003(sandbox):
    client = sandbox.twilio(TWILIO_AUTH_TOKEN="wrong")

    with pytest.raises(TwilioRestException) as raised:
        client.messages("SM" + "0" * 32).fetch()

    assert (raised.value.status, raised.value.code) == (401, 20003)
    assert raised.value.msg.endswith("Authenticate")


@pytest.mark.invalid_vendor_requests
def test_twilio_401_body_is_twilios(sandbox):
    response = sandbox.http.get("/v2/Channels/Senders", auth=(sandbox.account_sid, "nope"))

    assert response.status_code == 401
    assert response.json()["code"] == 20003
    assert response.json()["more_info"] == "https://www.twilio.com/docs/errors/20003"
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Twilio API"'
    assert sandbox.http.get("/v2/Channels/Senders").status_code == 401  # no credentials


def test_wrong_openai_key_is_an_authentication_error(sandbox):
    client = sandbox.openai(OPENAI_API_KEY="sk-wrong-key-1234")

    with pytest.raises(openai.AuthenticationError) as raised:
        client.files.list()

    assert raised.value.code == "invalid_api_key"
    assert "Incorrect API key provided" in raised.value.message


def test_missing_openai_key_is_a_401(sandbox):
    response = sandbox.http.get("/v1/files")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_another_accounts_path_is_a_404(sandbox):
    other = "AC" + "1" * 32
    auth = (sandbox.account_sid, sandbox.auth_token)
    response = sandbox.http.get(f"/2010-04-01/Accounts/{other}/Messages.json", auth=auth)
    assert response.status_code == 404 and response.json()["code"] == 20404


@pytest.mark.invalid_vendor_requests
def test_unknown_twilio_path_is_a_twilio_404(sandbox):
    response = sandbox.http.get("/2010-04-01/Accounts/x/Calls.json")
    assert response.status_code == 404
    assert response.json() == {
        "code": 20404,
        "message": "The requested resource /2010-04-01/Accounts/x/Calls.json was not found",
        "more_info": "https://www.twilio.com/docs/errors/20404",
        "status": 404,
    }


@pytest.mark.invalid_vendor_requests
def test_unknown_openai_path_is_an_openai_404(sandbox):
    response = sandbox.http.get("/v1/assistants", headers={"Authorization": "Bearer x"})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Invalid URL (GET /v1/assistants)"


@pytest.mark.invalid_vendor_requests
def test_wrong_method_gets_a_vendor_body(sandbox):
    headers = {"Authorization": f"Bearer {sandbox.openai_key}"}
    assert sandbox.http.put("/v1/files", headers=headers).json()["error"]["message"] == (
        "Invalid URL (PUT /v1/files)"
    )
    response = sandbox.http.put(
        "/v2/Channels/Senders", auth=(sandbox.account_sid, sandbox.auth_token)
    )
    assert response.status_code == 405 and response.json()["status"] == 405


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/vector_stores", b"{oops"),
        ("/v1/vector_stores", b"[1, 2]"),
        ("/v1/conversations", b'{"items": "no"}'),
        ("/v1/responses", b'{"model": "gpt-5.4-mini", "input": 42}'),
        (
            "/v1/responses",
            b'{"model": "gpt-5.4-mini", "input": "x", "tools": [{"type": "file_search"}]}',
        ),
    ],
)
@pytest.mark.invalid_vendor_requests
def test_malformed_openai_bodies_are_400s(sandbox, path, body):
    response = sandbox.http.post(
        path,
        content=body,
        headers={
            "Authorization": f"Bearer {sandbox.openai_key}",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.invalid_vendor_requests
def test_bad_twilio_paging_is_a_400(sandbox):
    response = sandbox.http.get(
        f"/2010-04-01/Accounts/{sandbox.account_sid}/Messages.json?PageSize=abc",
        auth=(sandbox.account_sid, sandbox.auth_token),
    )
    assert response.status_code == 400 and response.json()["code"] == 20001


def test_control_api_needs_no_credentials(sandbox):
    assert sandbox.http.get("/__sandbox__/faults").status_code == 200


def new_api_key(sandbox, **body: object) -> dict:
    return sandbox.control("POST", "keys", body)


def test_an_api_key_authenticates_for_its_account(sandbox):
    key = new_api_key(sandbox, friendly_name="plan")
    other = "AC" + "1" * 32
    auth = (key["sid"], key["secret"])

    senders = sandbox.http.get("/v2/Channels/Senders?Channel=whatsapp", auth=auth)
    numbers = sandbox.http.get(
        f"/2010-04-01/Accounts/{sandbox.account_sid}/IncomingPhoneNumbers.json", auth=auth
    )
    elsewhere = sandbox.http.get(f"/2010-04-01/Accounts/{other}/Messages.json", auth=auth)

    assert (senders.status_code, numbers.status_code) == (200, 200)
    assert elsewhere.status_code == 404 and elsewhere.json()["code"] == 20404
    assert key["sid"].startswith("SK") and len(key["sid"]) == 34
    assert key["friendly_name"] == "plan"


@pytest.mark.parametrize(
    "credentials",
    [
        lambda key, sandbox: (key["sid"], "wrong-secret"),
        lambda key, sandbox: (key["sid"], sandbox.auth_token),  # a key with the account's token
        lambda key, sandbox: ("SK" + "0" * 32, key["secret"]),  # a secret with another key
        lambda key, sandbox: (sandbox.account_sid, key["secret"]),  # the account with a secret
        lambda key, sandbox: (key["sid"], "sécret"),  # not ASCII: still a 401, never a 500
    ],
)
def test_a_wrong_api_key_pair_gets_twilios_401(sandbox, credentials):
    key = new_api_key(sandbox)

    response = sandbox.http.get(
        "/v2/Channels/Senders?Channel=whatsapp", auth=credentials(key, sandbox)
    )

    assert response.status_code == 401
    assert response.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
        "detail": "Your AccountSid or AuthToken was incorrect.",
    }
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Twilio API"'


def test_api_keys_are_gone_after_a_reset(sandbox):
    key = new_api_key(sandbox)
    sandbox.reset()

    response = sandbox.http.get(
        "/v2/Channels/Senders?Channel=whatsapp", auth=(key["sid"], key["secret"])
    )

    assert response.status_code == 401


def test_a_key_name_over_64_characters_is_refused(sandbox):
    response = sandbox.http.post("/__sandbox__/keys", json={"friendly_name": "x" * 65})
    assert response.status_code == 400
