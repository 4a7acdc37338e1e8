"""The status of every WhatsApp sender, from one Twilio listing (`horizon clients`)."""

from __future__ import annotations

from horizon.providers.twilio_senders import PAGE_SIZE
from horizon.settings import Settings
from horizon.vendors.retry import RetryPolicy, twilio_records
from horizon.vendors.twilio_sdk import twilio_client

# An operator waiting at a terminal: a few quick retries, then the error is the answer.
LISTING_POLICY = RetryPolicy(attempts=3, base_delay=0.2, max_delay=1.0, budget=10.0)


def sender_statuses(settings: Settings, policy: RetryPolicy = LISTING_POLICY) -> dict[str, str]:
    """`whatsapp:+E164` → Twilio's status (ONLINE, CREATING, OFFLINE…) for every sender.

    One paginated listing (1,000 senders a page), never one request per client. Raises
    MissingSetting without credentials and VendorError when Twilio refuses.
    """
    senders = twilio_client(settings, max_retries=0).messaging.v2.channels_senders
    pages = lambda: senders.page(channel="whatsapp", page_size=PAGE_SIZE)  # noqa: E731
    return {record.sender_id: str(record.status) for record in twilio_records(pages, policy)}
