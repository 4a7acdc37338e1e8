"""Injected faults: the SDKs' own retries get through 429s; latency overlaps; seeds repeat."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest.messaging.v2.channels_sender import ChannelsSenderList

from horizon.sandbox.faults import FaultError, Faults

# With seed 1 and a rate of one half, the first request fails and the second is served.
FAIL_ONCE = {"fail_rate": 0.5, "seed": 1, "retry_after": 0}


def test_fail_once_seed_fails_exactly_the_first_request():
    faults = Faults()
    faults.update({**FAIL_ONCE, "status": 429})
    assert [faults.failure("/v1/files") for _ in range(2)] == [429, None]


def test_twilio_sdk_retries_an_injected_429_and_succeeds(sandbox):
    sandbox.faults(status=429, paths=["/v2/Channels/Senders"], **FAIL_ONCE)

    assert (
        sandbox.twilio(max_retries=2).messaging.v2.channels_senders.list(channel="whatsapp") == []
    )
    assert sandbox.requests()["by_route"]["GET /v2/Channels/Senders"] == 2


def test_twilio_sdk_retries_a_refused_post_exactly_once(sandbox):
    sandbox.faults(status=429, paths=["/v2/Channels/Senders"], **FAIL_ONCE)
    request = ChannelsSenderList.MessagingV2ChannelsSenderRequestsCreate(
        {"sender_id": "whatsapp:+34910000101", "profile": {"name": "Roma"}}
    )

    sandbox.twilio(max_retries=2).messaging.v2.channels_senders.create(request)

    sandbox.faults(fail_rate=0)
    assert len(sandbox.twilio().messaging.v2.channels_senders.list(channel="whatsapp")) == 1


def test_twilio_sdk_does_not_retry_a_post_that_failed_with_500(sandbox):
    sandbox.seed_numbers("+14155550100")
    sandbox.faults(fail_rate=1, status=500, paths=["/2010-04-01/Accounts/"])

    with pytest.raises(TwilioRestException) as raised:
        sandbox.twilio(max_retries=2).messages.create(
            from_="+14155550100", to="+14155550199", body="hi"
        )

    assert (raised.value.status, raised.value.code) == (500, 20500)
    routes = sandbox.requests()["by_route"]
    assert routes["POST /2010-04-01/Accounts/{AccountSid}/Messages.json"] == 1


def test_twilio_429_without_retries_surfaces_code_20429_and_retry_after(sandbox):
    sandbox.faults(fail_rate=1, status=429, retry_after=7)
    response = sandbox.http.get(
        "/v2/Channels/Senders",
        params={"Channel": "whatsapp"},
        auth=(sandbox.account_sid, sandbox.auth_token),
    )

    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert response.json() == {
        "code": 20429,
        "message": "Too Many Requests",
        "more_info": "https://www.twilio.com/docs/errors/20429",
        "status": 429,
    }
    with pytest.raises(TwilioRestException) as raised:
        sandbox.twilio(max_retries=0).messaging.v2.channels_senders("XE" + "0" * 32).fetch()
    assert (raised.value.status, raised.value.code) == (429, 20429)


def test_twilio_sdk_reports_a_failed_list_page_as_a_plain_twilio_exception(sandbox):
    # The SDK's Page raises TwilioException("Unable to fetch page", response), not
    # TwilioRestException: callers find the status on the response it carries.
    sandbox.faults(fail_rate=1, status=503)
    with pytest.raises(TwilioException) as raised:
        sandbox.twilio(max_retries=0).messaging.v2.channels_senders.list(channel="whatsapp")
    assert not isinstance(raised.value, TwilioRestException)
    assert raised.value.args[1].status_code == 503


def test_openai_sdk_retries_an_injected_429_and_succeeds(sandbox):
    sandbox.faults(status=429, paths=["/v1/vector_stores"], **{**FAIL_ONCE, "retry_after": 0.01})

    assert list(sandbox.openai(max_retries=2).vector_stores.list()) == []
    assert sandbox.requests()["by_route"]["GET /v1/vector_stores"] == 2


def test_openai_429_without_retries_is_a_rate_limit_error(sandbox):
    sandbox.faults(fail_rate=1, status=429, paths=["/v1/files"])

    with pytest.raises(openai.RateLimitError) as raised:
        sandbox.openai(max_retries=0).files.list()

    assert raised.value.code == "rate_limit_exceeded"
    assert raised.value.response.headers["retry-after"] == "1"


@pytest.mark.parametrize("status", [500, 503])
def test_openai_server_errors_have_openai_bodies(sandbox, status):
    sandbox.faults(fail_rate=1, status=status, paths=["/v1/files"])

    with pytest.raises(openai.InternalServerError) as raised:
        sandbox.openai(max_retries=0).files.list()

    assert raised.value.status_code == status
    assert raised.value.body["type"] == "server_error"


def test_faults_apply_only_to_their_paths(sandbox):
    sandbox.faults(fail_rate=1, status=503, paths=["/v1/files"])
    client = sandbox.openai(max_retries=0)

    assert list(client.vector_stores.list()) == []
    with pytest.raises(openai.InternalServerError):
        client.files.retrieve("file-abc")  # a sub-path of /v1/files


def test_injected_latency_overlaps_across_concurrent_requests(sandbox):
    sandbox.faults(latency_ms=200, paths=["/v1/vector_stores"])
    client = sandbox.openai()

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: client.vector_stores.list(), range(8)))
    elapsed = time.monotonic() - started

    assert 0.2 <= elapsed < 0.8  # one after another would take 1.6 s


def test_same_seed_fails_the_same_requests(sandbox):
    def statuses() -> list[int]:
        sandbox.faults(fail_rate=0.5, status=503, seed=42, paths=["/v1/files"])
        headers = {"Authorization": f"Bearer {sandbox.openai_key}"}
        return [sandbox.http.get("/v1/files", headers=headers).status_code for _ in range(12)]

    first = statuses()
    assert first == statuses()
    assert set(first) == {200, 503}


def test_faults_are_shown_and_bad_settings_refused(sandbox):
    sandbox.faults(latency_ms=20, paths=["/v1/responses"])

    assert sandbox.control("GET", "faults") == {
        "fail_rate": 0.0, "status": 500, "latency_ms": 20.0, "paths": ["/v1/responses"],
        "retry_after": 1.0, "seed": None, "phase": "before", "drop": False,
    }  # fmt: skip
    for bad in ({"status": 418}, {"fail_rate": 2}, {"paths": "/v1"}, {"colour": "red"}):
        assert sandbox.http.post("/__sandbox__/faults", json=bad).status_code == 400


def test_unknown_fault_setting_is_named():
    with pytest.raises(FaultError, match="colour"):
        Faults().update({"colour": "red"})


def test_an_after_fault_lets_the_message_go_out_and_loses_its_answer(sandbox):
    sandbox.seed_numbers("+14155550100")
    sandbox.faults(fail_rate=1, status=500, phase="after", paths=["/2010-04-01/Accounts/"])

    with pytest.raises(TwilioRestException) as raised:
        sandbox.twilio(max_retries=0).messages.create(
            from_="+14155550100", to="+14155550199", body="hi"
        )

    assert raised.value.status == 500
    [sent] = sandbox.messages(direction="outbound-api")
    assert (sent["to"], sent["body"]) == ("+14155550199", "hi")


def test_an_after_fault_can_drop_the_connection_once_the_store_exists(sandbox):
    sandbox.faults(fail_rate=1, status=500, phase="after", drop=True, paths=["/v1/vector_stores"])

    with pytest.raises(openai.APIConnectionError):
        sandbox.openai(max_retries=0).vector_stores.create(name="kb")

    sandbox.faults(fail_rate=0)
    assert [store.name for store in sandbox.openai().vector_stores.list()] == ["kb"]


def test_a_before_fault_can_drop_the_connection_with_nothing_done(sandbox):
    sandbox.faults(fail_rate=1, status=500, drop=True, paths=["/v1/vector_stores"])

    with pytest.raises(openai.APIConnectionError):
        sandbox.openai(max_retries=0).vector_stores.create(name="kb")

    sandbox.faults(fail_rate=0)
    assert list(sandbox.openai().vector_stores.list()) == []


def test_after_latency_answers_late_once_the_work_is_done(sandbox):
    sandbox.faults(latency_ms=400, phase="after", paths=["/v1/vector_stores"])
    openai_client = sandbox.openai(max_retries=0)
    openai_client = openai_client.with_options(timeout=0.2)

    with pytest.raises(openai.APITimeoutError):
        openai_client.vector_stores.create(name="kb")

    sandbox.faults(latency_ms=0)
    assert [store.name for store in sandbox.openai().vector_stores.list()] == ["kb"]


def test_a_429_after_the_request_took_effect_is_refused():
    with pytest.raises(FaultError, match="phase 'before'"):
        Faults().update({"status": 429, "phase": "after"})
