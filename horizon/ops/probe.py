"""`horizon test`: post one inbound message to a running webhook exactly as Twilio would,
signed, then wait for the reply the webhook stores and say how long it took.

The webhook answers Twilio at once and replies later through the Messages API, so the
reply is read where the webhook writes it: the database HORIZON_DATABASE_URL names (the
inbound row by its MessageSid, then its turn and the parts the turn sent). This command
must therefore use the webhook's database. Twilio's message listing could show the reply
too, without database access, but it cannot tell which turn answered which message nor
why a reply is a fallback, it costs an API request per poll, and its date filter has
one-day granularity; the store knows all of it at once.
"""

from __future__ import annotations

import difflib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from twilio.request_validator import RequestValidator

from horizon.config.client import Client
from horizon.config.loader import LoadResult
from horizon.endpoints import inbound_url
from horizon.settings import Settings
from horizon.store.schema import work
from horizon.store.store import Store

# 555-0100 to 555-0199 are reserved for fiction in the North American numbering plan: no
# one receives the reply, and through real Twilio its delivery fails. To see the reply on
# a phone, pass that phone's WhatsApp number with --from.
TEST_NUMBER = "+15555550100"
PROFILE_NAME = "Horizon test"
API_VERSION = "2010-04-01"
# What the reply of each kind says about the bot: a fallback, a limit notice or silence
# mean the assistant was not reached, so the test fails.
GOOD_KINDS = frozenset({"answer", "paused", "opt_in", "opt_out"})
STORE_GRACE = 5.0  # the webhook stores a message before it acknowledges it


class ProbeError(Exception):
    """Why the test failed, in one line."""


@dataclass(frozen=True)
class ReplyPart:
    sid: str | None
    body: str
    status: str  # Twilio's delivery status when the reply was read
    error: str | None = None  # Twilio's error code for a failed delivery


@dataclass(frozen=True)
class ProbeResult:
    sid: str  # the inbound MessageSid
    status: str  # the inbound message's final status (answered, failed, limited…)
    kind: str | None  # the turn's kind (answer, fallback, paused…)
    parts: tuple[ReplyPart, ...]
    latency: float  # stored → reply sent, as the webhook recorded it
    round_trip: float  # posted → reply seen here
    error: str | None

    @property
    def ok(self) -> bool:
        return self.kind in GOOD_KINDS and bool(self.parts)

    @property
    def problem(self) -> str:
        """Why `ok` is False, in one line."""
        if not self.parts:
            return f"no reply was sent ({self.status}: {self.error or self.kind})"
        return f"the reply is a {self.kind} message ({self.error or self.status})"


def find_client(loaded: LoadResult, client_id: str) -> Client:
    """The client `client_id`, or ProbeError naming the file's errors or near names."""
    client = loaded.fleet.by_id.get(client_id)
    if client is not None:
        return client
    broken = sorted({e.file for e in loaded.errors if e.file.endswith(f"/{client_id}.yaml")})
    if broken:
        raise ProbeError(f"{broken[0]} has errors; see `horizon validate`")
    known = sorted(loaded.fleet.by_id)
    close = difflib.get_close_matches(client_id, known, n=1)
    hint = f" (did you mean {close[0]}?)" if close else f"; known: {', '.join(known) or 'none'}"
    raise ProbeError(f"unknown client {client_id!r}{hint}")


def new_message_sid() -> str:
    """A fresh sid in Twilio's format for a received message: SM and 32 hex digits."""
    return "SM" + secrets.token_hex(16)


def inbound_form(account_sid: str, client: Client, user: str, body: str, sid: str) -> dict:
    """The form Twilio posts to a messaging webhook for a received message.

    https://www.twilio.com/docs/messaging/guides/webhook-request; WhatsApp adds
    ProfileName, WaId and MessageType. MessagingServiceSid is sent only for numbers in a
    Messaging Service, which Horizon's senders are not. The sandbox posts the same set
    (horizon/sandbox/control.py:inbound_params).
    """
    whatsapp = client.channel == "whatsapp"
    prefix = "whatsapp:" if whatsapp else ""
    form = {
        "AccountSid": account_sid,
        "ApiVersion": API_VERSION,
        "Body": body,
        "From": f"{prefix}{user}",
        "MessageSid": sid,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "SmsStatus": "received",
        "To": f"{prefix}{client.number}",
    }
    if whatsapp:
        form |= {
            "ProfileName": PROFILE_NAME,
            "WaId": user.lstrip("+"),
            "MessageType": "text",
            "ReferralNumMedia": "0",
        }
    return form


@dataclass(frozen=True)
class Target:
    """Where the message goes (`base_url`), and what its signature is for: the URL the
    webhook checks signatures against (`signed_base`), with the account's credentials."""

    base_url: str
    signed_base: str
    account_sid: str
    auth_token: str

    @classmethod
    def from_settings(cls, settings: Settings, base_url: str | None = None) -> Target:
        """`base_url`, or HORIZON_PUBLIC_URL; the signature is for HORIZON_PUBLIC_URL when
        set (a replica reached by another URL checks against it), else for `base_url`."""
        base = base_url or settings.require("public_url", "as the webhook's URL (or pass --url)")
        base = base.rstrip("/")
        return cls(
            base_url=base,
            signed_base=settings.public_url or base,
            account_sid=settings.require("twilio_account_sid", "for the message's AccountSid"),
            auth_token=settings.require("twilio_auth_token", "to sign it as Twilio would"),
        )


def send_probe(target: Target, client: Client, user: str, body: str) -> tuple[str, float]:
    """Post `body` from `user` to `client`'s number; its MessageSid and when it was sent."""
    sid = new_message_sid()
    form = inbound_form(target.account_sid, client, user, body, sid)
    sent_at = time.monotonic()
    post_signed(target.base_url, target.signed_base, form, target.auth_token)
    return sid, sent_at


def post_signed(
    base_url: str, signed_base: str, form: dict, auth_token: str, timeout: float = 15.0
) -> None:
    """POST `form` to `base_url`'s inbound path, signed for `signed_base`'s; ProbeError on
    anything but a 2xx."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ProbeError(f"{base_url!r} is not an absolute http(s) URL")
    url, signed = inbound_url(base_url), inbound_url(signed_base)
    signature = RequestValidator(auth_token).compute_signature(signed, form)
    headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"}
    try:
        response = httpx.post(url, data=form, headers=headers, timeout=timeout, trust_env=False)
    except httpx.HTTPError as error:
        raise ProbeError(f"cannot reach the webhook at {url}: {error}") from None
    if response.is_success:
        return
    reason = _described(response)
    if response.status_code == 403:
        reason += (
            f" (the signature is for {signed} with TWILIO_AUTH_TOKEN: both must be the "
            "webhook's, its URL being HORIZON_PUBLIC_URL + /twilio/inbound)"
        )
    raise ProbeError(f"the webhook at {url} answered {response.status_code}: {reason}")


def _described(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return " ".join(response.text.split())[:200] or response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("description") or body.get("title") or body)
    return str(body)[:200]


def await_reply(
    store: Store,
    sid: str,
    timeout: float,
    sent_at: float,
    clock: Callable[[], float] = time.monotonic,
    poll: float = 0.1,
) -> ProbeResult:
    """Wait until the webhook has answered inbound message `sid`; ProbeError on timeout."""
    deadline = sent_at + timeout
    while True:
        found = store.find_messages(sid=sid, direction="inbound")
        now = clock()
        if found and found[0]["status"] == "unrouted":
            raise ProbeError(
                f"the webhook routes no client on {found[0]['client_number']}: reload its "
                "configuration (POST /api/reload, or SIGHUP) after adding the client"
            )
        if found and found[0]["status"] != "queued":
            return _result(store, found[0], now - sent_at)
        if not found and now - sent_at > min(STORE_GRACE, timeout):
            raise ProbeError(
                f"the webhook took {sid} but it is not in HORIZON_DATABASE_URL: "
                "horizon test must read the database the webhook writes"
            )
        if now >= deadline:
            raise ProbeError(f"no reply within {timeout:g} s ({sid} is still queued)")
        time.sleep(min(poll, max(0.0, deadline - now)))


def _result(store: Store, inbound: dict, round_trip: float) -> ProbeResult:
    with store.engine.connect() as connection:
        query = work.select().with_only_columns(work.c.turn_id)
        turn_id = connection.execute(query.where(work.c.message_id == inbound["id"])).scalar()
    turn = store.replies.turn(turn_id) if turn_id is not None else None
    sent = store.find_messages(turn_id=turn_id, direction="outbound") if turn_id else []
    parts = tuple(ReplyPart(m["sid"], m["body"], m["status"], m["error"]) for m in sent)
    return ProbeResult(
        sid=inbound["sid"],
        status=inbound["status"],
        kind=turn.kind if turn else None,
        parts=parts,
        latency=(inbound["answered_at"] or inbound["updated_at"]) - inbound["created_at"],
        round_trip=round_trip,
        error=inbound["error"] or (turn.error if turn else None),
    )
