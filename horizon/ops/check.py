"""`horizon check`: the preflight before going live, against the real Twilio and OpenAI accounts.

Read-only unless asked (`live_model`): one call per credential, then bulk listings of the
senders, numbers and knowledge stores the clients need, the models they name, and the
webhook's public `/healthz`. Every finding says what is wrong and what to do about it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from horizon.config.fleet import Fleet
from horizon.endpoints import inbound_url
from horizon.ops.findings import FAIL, PASS, WARN, Finding
from horizon.ops.live_model import probe_models
from horizon.providers.twilio_senders import status_notice
from horizon.settings import MissingSetting, Settings
from horizon.vendors.errors import VendorError
from horizon.vendors.openai_sdk import openai_client
from horizon.vendors.retry import RetryPolicy, openai_records, twilio_records, vendor_call
from horizon.vendors.twilio_sdk import twilio_client
from horizon.vendors.vector_stores import marked_stores

# A preflight waits for nobody: a few quick retries, then the failure is the finding.
CHECK_POLICY = RetryPolicy(attempts=3, base_delay=0.2, max_delay=1.0, budget=10.0)
HEALTH_TIMEOUT = 5.0


@dataclass
class Accounts:
    """The SDK clients and the listings several checks share, each fetched once."""

    settings: Settings
    twilio: Any = None
    openai: Any = None
    senders: dict[str, Any] | None = None
    numbers: dict[str, Any] | None = None


def run_checks(
    settings: Settings,
    fleet: Fleet,
    *,
    live_model: bool = False,
    policy: RetryPolicy = CHECK_POLICY,
) -> list[Finding]:
    """Every check, in the order an operator fixes things: settings, credentials, then the rest."""
    findings = check_settings(settings)
    if any(finding.status == FAIL for finding in findings):
        return findings
    accounts = Accounts(settings)
    findings += check_twilio(accounts, policy)
    findings += check_openai(accounts, policy)
    if accounts.senders is not None:
        findings += check_waba(accounts, fleet)
        findings += check_senders(accounts, fleet)
    if accounts.twilio is not None and any(client.channel == "sms" for client in fleet):
        findings += check_numbers(accounts, fleet, policy)
    if accounts.openai is not None:
        findings += check_models(accounts, fleet, policy)
        findings += check_knowledge(accounts, fleet, policy)
        if live_model:
            findings += check_live_models(accounts, fleet)
    findings += check_public_url(settings)
    return findings


def failed(findings: Iterable[Finding]) -> bool:
    return any(finding.status == FAIL for finding in findings)


def check_settings(settings: Settings) -> list[Finding]:
    needed = {
        "twilio_account_sid": "to call Twilio",
        "twilio_auth_token": "to call Twilio and check webhook signatures",
        "openai_api_key": "to call OpenAI",
        "public_url": "to point senders at the webhook",
    }
    findings = []
    for attribute, purpose in needed.items():
        try:
            settings.require(attribute, purpose)
        except MissingSetting as error:
            findings.append(
                Finding("settings", error.variable, FAIL, str(error), f"set {error.variable}")
            )
    if not findings:
        findings.append(Finding("settings", "environment", PASS, "every setting is present"))
    return findings


def _vendor_failure(check: str, subject: str, error: VendorError, fix: str) -> Finding:
    if error.status in (401, 403):
        fix = f"the credentials were refused: {fix}"
    return Finding(check, subject, FAIL, str(error), fix)


def check_twilio(accounts: Accounts, policy: RetryPolicy) -> list[Finding]:
    """Twilio's credentials, proven by the one listing the sender checks need anyway."""
    settings = accounts.settings
    client = twilio_client(settings, max_retries=0)
    senders = client.messaging.v2.channels_senders
    pages = lambda: senders.page(channel="whatsapp", page_size=1000)  # noqa: E731
    try:
        listed = {record.sender_id: record for record in twilio_records(pages, policy)}
    except VendorError as error:
        fix = (
            "check TWILIO_API_KEY and TWILIO_API_SECRET (and TWILIO_ACCOUNT_SID)"
            if settings.twilio_api_key
            else "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN in the Twilio Console"
        )
        return [_vendor_failure("twilio", settings.twilio_account_sid or "", error, fix)]
    accounts.twilio, accounts.senders = client, listed
    detail = f"account {settings.twilio_account_sid}: {len(listed)} WhatsApp senders"
    return [Finding("twilio", "credentials", PASS, detail)]


def check_openai(accounts: Accounts, policy: RetryPolicy) -> list[Finding]:
    """OpenAI's API key, proven by one model listing."""
    client = openai_client(accounts.settings, max_retries=0)
    try:
        models = vendor_call(lambda: client.models.list(), policy)
    except VendorError as error:
        fix = "check OPENAI_API_KEY (platform.openai.com > API keys) and its project's access"
        return [_vendor_failure("openai", "api key", error, fix)]
    accounts.openai = client
    count = len(getattr(models, "data", []) or [])
    return [Finding("openai", "api key", PASS, f"the key lists {count} models")]


def check_waba(accounts: Accounts, fleet: Fleet) -> list[Finding]:
    """Twilio creates the WhatsApp Business Account with the first sender, in the Console."""
    if not any(client.channel == "whatsapp" for client in fleet):
        return []
    senders = accounts.senders or {}
    waba = next(
        (
            (record.configuration or {}).get("waba_id")
            for record in senders.values()
            if (record.configuration or {}).get("waba_id")
        ),
        None,
    )
    if senders:
        detail = f"WhatsApp Business Account {waba}" if waba else f"{len(senders)} senders"
        return [Finding("whatsapp", "business account", PASS, detail)]
    return [
        Finding(
            "whatsapp",
            "business account",
            FAIL,
            "the account has no WhatsApp sender, so no WhatsApp Business Account yet",
            "register the first WhatsApp sender in the Twilio Console (Messaging > Senders > "
            "WhatsApp senders), which creates the WhatsApp Business Account; then run "
            "`horizon reconcile` for the others",
        )
    ]


def check_senders(accounts: Accounts, fleet: Fleet) -> list[Finding]:
    """Each WhatsApp client's sender: present, ONLINE, and pointing at this webhook."""
    expected = inbound_url(str(accounts.settings.public_url))
    senders = accounts.senders or {}
    findings = []
    for client in fleet:
        if client.channel != "whatsapp":
            continue
        record = senders.get(f"whatsapp:{client.number}")
        subject = f"{client.id} ({client.number})"
        if record is None:
            fix = "run `horizon reconcile` to create it, then verify the number"
            findings.append(Finding("sender", subject, FAIL, "no WhatsApp sender", fix))
            continue
        callback = (record.webhook or {}).get("callback_url")
        if record.status != "ONLINE":
            notice = status_notice(record.status) or ""
            findings.append(Finding("sender", subject, FAIL, f"status {record.status}", notice))
        elif callback != expected:
            detail = f"inbound messages go to {callback or '(nowhere)'}, not {expected}"
            fix = "run `horizon reconcile` (or adopt the sender with `horizon adopt`)"
            findings.append(Finding("sender", subject, FAIL, detail, fix))
        else:
            findings.append(Finding("sender", subject, PASS, f"ONLINE, inbound to {callback}"))
    return findings


def check_numbers(accounts: Accounts, fleet: Fleet, policy: RetryPolicy) -> list[Finding]:
    """Each SMS client's number: in the account, and its inbound messages reach this webhook."""
    numbers = accounts.twilio.incoming_phone_numbers
    pages = lambda: numbers.page(page_size=1000)  # noqa: E731
    try:
        listed = {record.phone_number: record for record in twilio_records(pages, policy)}
    except VendorError as error:
        return [_vendor_failure("number", "listing", error, "check the Twilio account")]
    expected = inbound_url(str(accounts.settings.public_url))
    findings = []
    for client in fleet:
        if client.channel != "sms":
            continue
        subject = f"{client.id} ({client.number})"
        record = listed.get(client.number)
        application = getattr(record, "sms_application_sid", None) if record else None
        if record is None:
            fix = "buy or port the number in the Twilio Console, then run `horizon reconcile`"
            findings.append(Finding("number", subject, FAIL, "not in the account", fix))
        elif application:
            detail = f"inbound SMS go to {application}, which overrides the number's SmsUrl"
            fix = "remove the number from that application or Messaging Service"
            findings.append(Finding("number", subject, FAIL, detail, fix))
        elif record.sms_url != expected:
            detail = f"inbound SMS go to {record.sms_url or '(nowhere)'}, not {expected}"
            findings.append(Finding("number", subject, FAIL, detail, "run `horizon reconcile`"))
        else:
            findings.append(Finding("number", subject, PASS, f"inbound SMS to {expected}"))
    return findings


def check_models(accounts: Accounts, fleet: Fleet, policy: RetryPolicy) -> list[Finding]:
    """Every model a client names exists for this API key (one lookup per model)."""
    findings = []
    for model in sorted({client.assistant.model for client in fleet}):
        users = ", ".join(client.id for client in fleet if client.assistant.model == model)
        try:
            vendor_call(lambda model=model: accounts.openai.models.retrieve(model), policy)
        except VendorError as error:
            if error.status == 404:
                fix = f"choose a model this key can use in the client files of: {users}"
                findings.append(Finding("model", model, FAIL, "the API does not know it", fix))
            else:
                findings.append(_vendor_failure("model", model, error, "check the account"))
            continue
        findings.append(Finding("model", model, PASS, f"available; used by {users}"))
    return findings


def check_knowledge(accounts: Accounts, fleet: Fleet, policy: RetryPolicy) -> list[Finding]:
    """Each client with knowledge files has its store, and OpenAI indexed every file."""
    wanted = {client.id: client for client in fleet if client.assistant.knowledge}
    if not wanted:
        return []
    stores: dict[str, Any] = {}
    for store in marked_stores(accounts.openai, policy):
        stores.setdefault(store.metadata["client"], store)  # newest first, as the worker
    return [
        _knowledge_finding(accounts.openai, client.id, stores.get(client.id), policy)
        for client in wanted.values()
    ]


def _knowledge_finding(openai: Any, client_id: str, store: Any, policy: RetryPolicy) -> Finding:
    if store is None:
        return Finding("knowledge", client_id, FAIL, "no vector store", "run `horizon reconcile`")
    counts = store.file_counts
    if counts.failed:
        listing = lambda: openai.vector_stores.files.list(store.id, filter="failed")  # noqa: E731
        errors = [
            f"{(attached.attributes or {}).get('path', attached.id)}: "
            f"{attached.last_error.code if attached.last_error else 'failed'}"
            f" ({attached.last_error.message if attached.last_error else ''})"
            for attached in openai_records(listing, policy)
        ]
        fix = "fix or replace those files, then run `horizon reconcile`"
        return Finding("knowledge", client_id, FAIL, "; ".join(errors), fix)
    if counts.in_progress:
        detail = f"{counts.in_progress} of {counts.total} files still being indexed"
        return Finding("knowledge", client_id, WARN, detail, "check again in a few minutes")
    return Finding("knowledge", client_id, PASS, f"{counts.completed} files indexed")


def check_live_models(accounts: Accounts, fleet: Fleet) -> list[Finding]:
    """One tiny Responses request per distinct (model, parameters): the API accepts them."""
    return probe_models(accounts.openai, fleet)


def check_public_url(
    settings: Settings, get: Callable[..., httpx.Response] = httpx.get
) -> list[Finding]:
    """The webhook answers at HORIZON_PUBLIC_URL, where Twilio will post."""
    url = f"{str(settings.public_url).rstrip('/')}/healthz"
    started = time.monotonic()
    try:
        answer = get(url, timeout=HEALTH_TIMEOUT, follow_redirects=False)
    except httpx.HTTPError as error:
        fix = "start `horizon serve` where HORIZON_PUBLIC_URL points, reachable from the internet"
        return [Finding("webhook", url, FAIL, f"{type(error).__name__}: {error}", fix)]
    if answer.status_code != 200:
        fix = "make HORIZON_PUBLIC_URL reach `horizon serve` (proxy, TLS, path)"
        return [Finding("webhook", url, FAIL, f"HTTP {answer.status_code}", fix)]
    seconds = time.monotonic() - started
    return [Finding("webhook", url, PASS, f"healthy ({seconds * 1000:.0f} ms)")]
