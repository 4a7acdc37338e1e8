"""Horizon's SDK clients: base-URL overrides, credentials from Settings, retry policy."""

from __future__ import annotations

import pytest

from horizon.settings import InvalidSetting, MissingSetting, Settings
from horizon.vendors.openai_sdk import openai_client
from horizon.vendors.twilio_sdk import BaseUrlHttpClient, twilio_client, twilio_retry


def settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
         "http://127.0.0.1:8765/2010-04-01/Accounts/AC1/Messages.json"),
        ("https://messaging.twilio.com/v2/Channels/Senders?PageSize=50",
         "http://127.0.0.1:8765/v2/Channels/Senders?PageSize=50"),
        ("https://messaging.dublin.ie1.twilio.com/v2/Indicators/Typing.json",
         "http://127.0.0.1:8765/v2/Indicators/Typing.json"),
        ("http://127.0.0.1:8765/v2/Channels/Senders?Page=1",
         "http://127.0.0.1:8765/v2/Channels/Senders?Page=1"),
        ("https://twilio.com.evil.example/x", "https://twilio.com.evil.example/x"),
    ],
)  # fmt: skip
def test_twilio_urls_are_sent_to_the_api_base(url, expected):
    assert BaseUrlHttpClient("http://127.0.0.1:8765/").rewrite(url) == expected


def test_without_an_api_base_urls_are_left_alone():
    url = "https://api.twilio.com/2010-04-01/Accounts.json"
    assert BaseUrlHttpClient(None).rewrite(url) == url


def test_twilio_client_uses_the_settings_credentials_and_base():
    client = twilio_client(
        settings(
            TWILIO_ACCOUNT_SID="AC" + "1" * 32,
            TWILIO_AUTH_TOKEN="token",
            TWILIO_API_BASE="http://127.0.0.1:9",
        )
    )
    assert (client.username, client.password) == ("AC" + "1" * 32, "token")
    assert client.http_client.api_base == "http://127.0.0.1:9"


KEY_SID = "SK" + "2" * 32


def test_an_api_key_replaces_the_auth_token_for_rest_calls():
    client = twilio_client(
        settings(
            TWILIO_ACCOUNT_SID="AC" + "1" * 32,
            TWILIO_AUTH_TOKEN="token",
            TWILIO_API_KEY=KEY_SID,
            TWILIO_API_SECRET="secret",
        )
    )
    assert (client.username, client.password) == (KEY_SID, "secret")
    assert client.account_sid == "AC" + "1" * 32


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"TWILIO_AUTH_TOKEN": "t"}, "TWILIO_ACCOUNT_SID"),
        ({"TWILIO_ACCOUNT_SID": "AC1"}, "TWILIO_AUTH_TOKEN"),
        ({"TWILIO_API_KEY": KEY_SID, "TWILIO_API_SECRET": "s"}, "TWILIO_ACCOUNT_SID"),
        ({"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_API_KEY": KEY_SID}, "TWILIO_API_SECRET"),
        # Half a key is an error, not a silent fall back to the auth token.
        ({"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_API_SECRET": "s"},
         "TWILIO_API_KEY"),
    ],
)  # fmt: skip
def test_missing_twilio_credential_names_its_variable(values, variable):
    with pytest.raises(MissingSetting) as raised:
        twilio_client(settings(**values))
    assert raised.value.variable == variable


def test_without_any_twilio_credential_the_error_names_both_ways():
    with pytest.raises(MissingSetting) as raised:
        twilio_client(settings(TWILIO_ACCOUNT_SID="AC1"))
    assert str(raised.value) == (
        "TWILIO_AUTH_TOKEN is not set; it is needed to call Twilio "
        "(or set TWILIO_API_KEY and TWILIO_API_SECRET)"
    )


def test_an_api_key_that_is_not_a_key_sid_is_refused_without_echoing_it():
    with pytest.raises(InvalidSetting) as raised:
        settings(TWILIO_API_KEY="a-pasted-secret-0123456789")
    assert raised.value.variable == "TWILIO_API_KEY"
    assert "a-pasted-secret" not in str(raised.value)


def test_missing_openai_key_names_its_variable():
    with pytest.raises(MissingSetting) as raised:
        openai_client(settings())
    assert raised.value.variable == "OPENAI_API_KEY"


def test_openai_client_honours_the_base_url_timeout_and_retries():
    client = openai_client(
        settings(OPENAI_API_KEY="sk-x", OPENAI_BASE_URL="http://127.0.0.1:9/v1"),
        timeout=5,
        max_retries=0,
    )
    assert str(client.base_url) == "http://127.0.0.1:9/v1/"
    assert (client.timeout, client.max_retries) == (5, 0)


def test_twilio_retry_repeats_refusals_for_every_method_but_5xx_only_when_idempotent():
    retry = twilio_retry(2)
    assert retry.is_retry("POST", 429)
    assert retry.is_retry("GET", 503)
    assert not retry.is_retry("POST", 500)
    assert not retry.is_retry("POST", 400)
    assert not twilio_retry(0).is_retry("GET", 429)


def test_sdk_clients_reach_the_sandbox(sandbox):
    sandbox.seed_numbers("+14155550100")
    assert len(twilio_client(sandbox.settings()).incoming_phone_numbers.list()) == 1
    assert list(openai_client(sandbox.settings()).files.list()) == []


def test_the_asyncio_twilio_client_maps_urls_like_the_synchronous_one(sandbox):
    import asyncio

    from horizon.vendors.twilio_sdk import AsyncBaseUrlHttpClient, async_twilio_client

    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
    assert AsyncBaseUrlHttpClient("http://127.0.0.1:8765/").rewrite(url) == (
        BaseUrlHttpClient("http://127.0.0.1:8765/").rewrite(url)
    )
    sandbox.seed_numbers("+14155550100")

    async def list_numbers() -> list[str]:
        client = async_twilio_client(sandbox.settings())
        try:
            return [n.phone_number for n in await client.incoming_phone_numbers.list_async()]
        finally:
            await client.http_client.close()

    assert asyncio.run(list_numbers()) == ["+14155550100"]
    assert sandbox.requests()["by_route"]  # the call reached the sandbox, not twilio.com


def api_key_settings(sandbox, **overrides: str) -> Settings:
    """The sandbox's settings with a new API key of its account and no auth token."""
    key = sandbox.control("POST", "keys", {"friendly_name": "reconcile"})
    values = {"TWILIO_AUTH_TOKEN": "", "TWILIO_API_KEY": key["sid"]}
    return sandbox.settings(**{**values, "TWILIO_API_SECRET": key["secret"], **overrides})


def test_both_twilio_clients_work_with_an_api_key_and_no_auth_token(sandbox):
    import asyncio

    from horizon.vendors.twilio_sdk import async_twilio_client

    sandbox.seed_numbers("+14155550100")
    with_key = api_key_settings(sandbox)
    assert not with_key.twilio_auth_token

    async def list_numbers() -> list[str]:
        client = async_twilio_client(with_key)
        try:
            return [n.phone_number for n in await client.incoming_phone_numbers.list_async()]
        finally:
            await client.http_client.close()

    assert [n.phone_number for n in twilio_client(with_key).incoming_phone_numbers.list()] == [
        "+14155550100"
    ]
    assert asyncio.run(list_numbers()) == ["+14155550100"]


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_wrong_api_key_secret_fails_even_beside_a_right_auth_token(sandbox, asynchronous):
    import asyncio

    from twilio.base.exceptions import TwilioRestException

    from horizon.vendors.twilio_sdk import async_twilio_client

    wrong = api_key_settings(sandbox, TWILIO_AUTH_TOKEN=sandbox.auth_token)
    wrong = wrong.model_copy(update={"twilio_api_secret": "not-the-secret"})

    message = "SM" + "0" * 32

    async def fetch_async() -> None:
        client = async_twilio_client(wrong)
        try:
            await client.messages(message).fetch_async()
        finally:
            await client.http_client.close()

    with pytest.raises(TwilioRestException) as raised:
        if asynchronous:
            asyncio.run(fetch_async())
        else:
            twilio_client(wrong, max_retries=0).messages(message).fetch()
    assert (raised.value.status, raised.value.code) == (401, 20003)
