"""Retry as policy: one place decides what is retried, how long to wait, and when to stop.

Reconcile's providers and the webhook's worker wrap every vendor call with `vendor_call`,
`call` or `call_async`; what is worth retrying is the `VendorError`'s to say, so the
policy never needs to know an SDK.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from horizon.vendors.errors import VendorError, vendor_errors

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off with full jitter, capped per wait and in total.

    A `Retry-After` from the vendor is honoured as the least wait, within the budget.
    """

    attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 20.0
    budget: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `attempt` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        jittered = random.uniform(ceiling / 2, ceiling)
        return max(jittered, retry_after or 0.0)

    def waits(self, error: BaseException, attempt: int, waited: float) -> float | None:
        """The wait before the next attempt, or None when `error` must be raised."""
        if not isinstance(error, VendorError) or not error.transient:
            return None
        if attempt >= self.attempts:
            return None
        wait = self.delay(attempt, error.retry_after)
        if waited + wait > self.budget:
            return None
        return wait


DEFAULT_POLICY = RetryPolicy()


def call(
    function: Callable[[], T],
    policy: RetryPolicy = DEFAULT_POLICY,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `function`, retrying transient VendorErrors according to `policy`."""
    attempt, waited = 1, 0.0
    while True:
        try:
            return function()
        except VendorError as error:
            wait = policy.waits(error, attempt, waited)
            if wait is None:
                raise
        sleep(wait)
        attempt, waited = attempt + 1, waited + wait


async def call_async(
    function: Callable[[], Awaitable[T]],
    policy: RetryPolicy = DEFAULT_POLICY,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """`call` for coroutines: the wait never blocks the event loop."""
    attempt, waited = 1, 0.0
    while True:
        try:
            return await function()
        except VendorError as error:
            wait = policy.waits(error, attempt, waited)
            if wait is None:
                raise
        await sleep(wait)
        attempt, waited = attempt + 1, waited + wait


def vendor_call(function: Callable[[], T], policy: RetryPolicy = DEFAULT_POLICY) -> T:
    """Call an SDK function with its exceptions wrapped as VendorError and retried by `policy`."""

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
