"""Every known departure from the vendors' specs, in one place, each with its reason and source.

KNOWN_EXCEPTIONS: the spec is behind the vendor's own SDK; such requests are accepted anywhere.
KNOWN_DEFECTS: requests that do break the spec and should be fixed. A violation that matches
one is tolerated only in a test marked `@pytest.mark.known_violation("<id>")`, and that test
is then reported as an expected failure; once the request is fixed the test fails until the
marker goes (like `xfail(strict=True)`).
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.contracts.checker import Violation


@dataclass(frozen=True)
class Known:
    id: str
    operations: tuple[str, ...]  # operationIds
    field: str  # as in Violation.field
    reason: str
    source: str

    def matches(self, violation: Violation) -> bool:
        return violation.operation_id in self.operations and violation.field == self.field


KNOWN_EXCEPTIONS: tuple[Known, ...] = (
    Known(
        id="sender-friendly-name",
        operations=("CreateChannelsSender", "UpdateChannelsSender"),
        field="body.friendly_name",
        reason=(
            "Horizon's ownership mark (horizon:<client-id>). The installed SDK (twilio 9.13.0) "
            "sends it: MessagingV2ChannelsSenderRequestsCreate/RequestsUpdate.friendly_name, "
            '"Optional display label for the sender in the Twilio Console". The twilio-oai '
            "snapshot predates it: `git log -S friendly_name` on twilio_messaging_v2.json finds "
            "nothing up to d50069b (2026-04-14)."
        ),
        source=(
            "twilio/twilio-python eba3466ea (2026-08-11, release 9.11.0) added it, regenerated "
            "from a later API definition; twilio/rest/messaging/v2/channels_sender.py"
        ),
    ),
)

# None today: every request the suite sends keeps to the specs but for KNOWN_EXCEPTIONS.
KNOWN_DEFECTS: tuple[Known, ...] = ()


def known_exception(violation: Violation) -> Known | None:
    return next((known for known in KNOWN_EXCEPTIONS if known.matches(violation)), None)


def known_defect(defect_id: str) -> Known:
    for known in KNOWN_DEFECTS:
        if known.id == defect_id:
            return known
    raise KeyError(f"no known defect {defect_id!r} in tests/contracts/known.py")
