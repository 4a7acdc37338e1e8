"""Retry as policy: one place decides what is retried, how long to wait, and when to stop.

Reconcile's apply and the webhook's worker wrap every vendor call with `call` or
`call_async`; providers raise `VendorError` (see horizon.providers.errors) so the policy
never needs to know an SDK.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

TRANSIENT_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


class VendorError(Exception):
    """A failed Twilio or OpenAI call, wrapped once at the provider boundary.

    `status` is None when no HTTP answer came back (connection refused, timeout).
    """

    def __init__(
        self,
        vendor: str,
        message: str,
        *,
        status: int | None = None,
        code: str | int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.vendor, self.status, self.code = vendor, status, code
        self.message, self.retry_after = message, retry_after
        code_text = f" {code}" if code not in (None, "") else ""
        if status is None:
            super().__init__(f"{vendor}: no response{code_text}: {message}")
        else:
            super().__init__(f"{vendor} HTTP {status}{code_text}: {message}")

    @property
    def transient(self) -> bool:
        """Worth retrying: rate limits, server errors, and calls that got no answer."""
        return self.status is None or self.status in TRANSIENT_STATUSES


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
