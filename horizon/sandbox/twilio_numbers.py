"""Twilio IncomingPhoneNumbers (2010 API): list, fetch, update. Numbers are seeded, never bought.

A number's `sms_application_sid` hands its inbound messages to a TwiML application (AP…) or,
when the number sits in a Messaging Service's sender pool, to that service (MG…); Twilio
then ignores the number's own `sms_*_url`s.
"""

from __future__ import annotations

import fnmatch
import re
import time

import falcon
import phonenumbers

from horizon.sandbox.context import Sandbox
from horizon.sandbox.twilio_api import (
    API_VERSION,
    E164,
    Form,
    invalid,
    list_2010,
    new_sid,
    not_found,
    query_form,
    read_form,
    rfc2822,
)

NUMBERS = "incoming_phone_numbers"

# Form parameter -> resource field, for the fields an update may change.
UPDATABLE = {
    "FriendlyName": "friendly_name",
    "SmsUrl": "sms_url",
    "SmsMethod": "sms_method",
    "SmsFallbackUrl": "sms_fallback_url",
    "SmsFallbackMethod": "sms_fallback_method",
    "SmsApplicationSid": "sms_application_sid",
    "StatusCallback": "status_callback",
    "StatusCallbackMethod": "status_callback_method",
    "VoiceUrl": "voice_url",
    "VoiceMethod": "voice_method",
    "VoiceFallbackUrl": "voice_fallback_url",
    "VoiceFallbackMethod": "voice_fallback_method",
    "VoiceApplicationSid": "voice_application_sid",
}
METHOD_FIELDS = {name for name in UPDATABLE if name.endswith("Method")}
URL_FIELDS = {"SmsUrl", "SmsFallbackUrl", "StatusCallback", "VoiceUrl", "VoiceFallbackUrl"}
# The update's SmsApplicationSid takes an application only (the spec's pattern); a Messaging
# Service puts its own SID there when it takes the number, which only seeding can do here.
APPLICATION_SID = re.compile(r"^AP[0-9a-fA-F]{32}$")
HANDLER_SID = re.compile(r"^(AP|MG)[0-9a-fA-F]{32}$")


def seed_numbers(
    sandbox: Sandbox, numbers: list[str], sms_application_sid: str | None = None
) -> list[dict]:
    """Add numbers to the account (existing ones are kept as they are); returns their records.

    `sms_application_sid` (AP… or MG…) hands the new numbers' inbound messages elsewhere.
    """
    handler = sms_application_sid
    if handler is not None and not (isinstance(handler, str) and HANDLER_SID.match(handler)):
        raise ValueError(f"not an application (AP…) or Messaging Service (MG…) SID: {handler!r}")
    records = []
    for number in numbers:
        if not E164.match(number):
            raise ValueError(f"not an E.164 phone number: {number!r}")
        existing = sandbox.world.find(NUMBERS, phone_number=number)
        record = existing or _create(sandbox, number)
        if sms_application_sid is not None:
            changed = {**record, "sms_application_sid": sms_application_sid}
            record = sandbox.world.put(NUMBERS, record["sid"], changed)
        records.append(record)
    return records


def _create(sandbox: Sandbox, number: str) -> dict:
    account_sid = sandbox.options.account_sid
    sid = new_sid("PN")
    now = rfc2822(time.time())
    record = {
        "account_sid": account_sid,
        "address_requirements": "none",
        "address_sid": None,
        "api_version": API_VERSION,
        "beta": False,
        "bundle_sid": None,
        "capabilities": {"fax": False, "mms": True, "sms": True, "voice": True},
        "date_created": now,
        "date_updated": now,
        "emergency_address_sid": None,
        "emergency_address_status": "unregistered",
        "emergency_status": "Inactive",
        "friendly_name": _national_format(number),
        "identity_sid": None,
        "origin": "twilio",
        "phone_number": number,
        "sid": sid,
        "sms_application_sid": "",
        "sms_fallback_method": "POST",
        "sms_fallback_url": "",
        "sms_method": "POST",
        "sms_url": "",
        "status": "in-use",
        "status_callback": "",
        "status_callback_method": "POST",
        "subresource_uris": {
            "assigned_add_ons": (
                f"/{API_VERSION}/Accounts/{account_sid}/IncomingPhoneNumbers/{sid}"
                "/AssignedAddOns.json"
            )
        },
        "trunk_sid": None,
        "type": "local",
        "uri": f"/{API_VERSION}/Accounts/{account_sid}/IncomingPhoneNumbers/{sid}.json",
        "voice_application_sid": "",
        "voice_caller_id_lookup": False,
        "voice_fallback_method": "POST",
        "voice_fallback_url": "",
        "voice_method": "POST",
        "voice_receive_mode": "voice",
        "voice_url": "",
    }
    return sandbox.world.put(NUMBERS, sid, record)


def _national_format(number: str) -> str:
    """Twilio names a new number by its national format, e.g. '(415) 555-0100'."""
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def _matches(record: dict, query: Form) -> bool:
    phone = query.get("PhoneNumber")
    if phone:
        # Partial numbers match anywhere; '*' stands for any one digit.
        pattern = "*" + phone.replace("*", "?") + "*"
        if not fnmatch.fnmatchcase(record["phone_number"], pattern):
            return False
    friendly_name = query.get("FriendlyName")
    if friendly_name is not None and record["friendly_name"] != friendly_name:
        return False
    origin = query.get("Origin")
    return origin is None or record["origin"] == origin


class IncomingPhoneNumbers:
    """/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json"""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def on_get(self, req: falcon.Request, resp: falcon.Response, AccountSid: str) -> None:
        query = query_form(req)
        records = [r for r in self.sandbox.world.all(NUMBERS) if _matches(r, query)]
        resp.media = list_2010(req, NUMBERS, records, ("PhoneNumber", "FriendlyName", "Origin"))


class IncomingPhoneNumber:
    """/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json"""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def _record(self, req: falcon.Request, sid: str) -> dict:
        record = self.sandbox.world.get(NUMBERS, sid)
        if record is None:
            raise not_found(req.path)
        return record

    async def on_get(self, req, resp, AccountSid: str, Sid: str) -> None:
        resp.media = self._record(req, Sid)

    async def on_post(self, req, resp, AccountSid: str, Sid: str) -> None:
        record = self._record(req, Sid)
        form = await read_form(req)
        changes = {}
        for param, field_name in UPDATABLE.items():
            if param not in form:
                continue
            value = form.get(param) or ""
            _validate(param, value)
            changes[field_name] = value
        updated = {**record, **changes, "date_updated": rfc2822(time.time())}
        resp.media = self.sandbox.world.put(NUMBERS, Sid, updated)

    async def on_delete(self, req, resp, AccountSid: str, Sid: str) -> None:
        self._record(req, Sid)
        self.sandbox.world.delete(NUMBERS, Sid)
        resp.status = falcon.HTTP_204


def _validate(param: str, value: str) -> None:
    # The spec's enum is upper case; no Twilio source says it takes `post` (stricter reading).
    if param in METHOD_FIELDS and value not in ("GET", "POST"):
        raise invalid(f"{param} must be either GET or POST", code=21100)
    if param in URL_FIELDS and value and not value.startswith(("http://", "https://")):
        raise invalid(f"{param} is not valid: {value}", code=21502)
    if param == "FriendlyName" and len(value) > 64:
        raise invalid("FriendlyName must be at most 64 characters", code=21100)
    # The spec's pattern (^AP…, 34 characters) admits no empty value: nothing documents that
    # "" clears it, so the stricter reading refuses it.
    if param == "SmsApplicationSid" and not APPLICATION_SID.match(value):
        raise invalid(f"SmsApplicationSid is not valid: {value}", code=21100)
