"""The provider protocol reconcile drives, and the one way providers call a vendor.

A provider owns one kind of remote resource. It turns the Fleet into desired resources
(pure), observes the live ones with bulk listings, and applies one change at a time.
Adding a vendor resource is one module implementing `Provider` plus a line in the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from horizon.config.fleet import Fleet
from horizon.providers.errors import vendor_errors
from horizon.reconcile.resources import Change, Resource
from horizon.retry import DEFAULT_POLICY, RetryPolicy, VendorError, call

T = TypeVar("T")


@dataclass(frozen=True)
class Applied:
    """What a vendor answered to an applied change: its id, status and anything to act on."""

    remote_id: str | None = None
    status: str | None = None
    notice: str | None = None


class Provider(Protocol):
    """One kind of managed resource at one vendor.

    `creatable` is False when a missing resource cannot be made by Horizon (a phone number
    must be bought or ported); the plan then reports it with `missing_hint`.
    """

    kind: str
    creatable: bool
    missing_hint: str

    def desired(self, fleet: Fleet) -> list[Resource]:
        """The resources `fleet` asks for; pure apart from reading the clients' local files."""
        ...

    def observe(self, desired: Sequence[Resource]) -> list[Resource]:
        """Every live resource of this kind, from paginated list calls.

        `desired` lets a provider read detail only where the listing shows a difference;
        nothing is read per resource when the listing proves a resource in sync.
        """
        ...

    def apply(self, change: Change) -> Applied:
        """Carry out one CREATE, UPDATE or DELETE; raise VendorError when the vendor refuses."""
        ...


class AlreadyExists(VendorError):
    """A create found the resource already there (its first attempt's answer was lost).

    Not worth retrying: the next plan sees the resource and updates it instead.
    """

    @property
    def transient(self) -> bool:
        return False


def vendor_call(function: Callable[[], T], policy: RetryPolicy = DEFAULT_POLICY) -> T:
    """Call an SDK function with vendor exceptions wrapped and retried by `policy`."""

    def attempt() -> T:
        with vendor_errors():
            return function()

    return call(attempt, policy)


def twilio_records(first_page: Callable[[], Any], policy: RetryPolicy) -> Iterator[Any]:
    """Every record of a Twilio listing, one retried request per page."""
    page = vendor_call(first_page, policy)
    while page is not None:
        yield from page
        page = vendor_call(page.next_page, policy)


def openai_records(first_page: Callable[[], Any], policy: RetryPolicy) -> Iterator[Any]:
    """Every item of an OpenAI cursor listing, one retried request per page."""
    page = vendor_call(first_page, policy)
    while True:
        yield from page.data
        if not page.has_next_page():
            return
        page = vendor_call(page.get_next_page, policy)
