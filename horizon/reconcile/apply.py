"""Apply a plan: every change concurrently within a bound, each one's failure its own.

Providers retry each vendor call under `horizon.retry`'s policy; a change that still fails
is recorded with the vendor's status, code and message, and the others carry on. Running
reconcile again plans what is left, so a re-run finishes the job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from horizon.reconcile.provider import Applied, Provider
from horizon.reconcile.redact import redact
from horizon.reconcile.resources import Change, Plan
from horizon.vendors.errors import VendorError

DEFAULT_PARALLELISM = 8

LOGGER = logging.getLogger("horizon.reconcile")


@dataclass(frozen=True)
class Failure:
    """Why a change failed, as the vendor said it (secrets removed)."""

    vendor: str
    message: str
    status: int | None = None
    code: str | int | None = None

    def __str__(self) -> str:
        answer = f"HTTP {self.status}" if self.status is not None else "no answer"
        code = f" (code {self.code})" if self.code not in (None, "") else ""
        return f"{self.vendor} {answer}{code}: {self.message}"


@dataclass(frozen=True)
class Outcome:
    """One change after apply: what the vendor answered, or why it failed."""

    change: Change
    applied: Applied | None = None
    failure: Failure | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass(frozen=True)
class ApplyReport:
    """Every outcome, in plan order."""

    outcomes: tuple[Outcome, ...] = ()
    seconds: float = 0.0

    @property
    def succeeded(self) -> tuple[Outcome, ...]:
        return tuple(outcome for outcome in self.outcomes if outcome.ok)

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(outcome for outcome in self.outcomes if not outcome.ok)

    @property
    def ok(self) -> bool:
        return not self.failed


def apply_plan(
    plan: Plan,
    providers: Sequence[Provider],
    *,
    parallelism: int = DEFAULT_PARALLELISM,
    secrets: Iterable[str] = (),
    on_outcome: Callable[[Outcome], None] | None = None,
) -> ApplyReport:
    """Carry out the plan's CREATE, UPDATE and DELETE changes, at most `parallelism` at once.

    `secrets` are masked in failure messages; `on_outcome` hears each change as it ends.
    """
    by_kind = {provider.kind: provider for provider in providers}
    changes = plan.to_apply
    hidden = tuple(secret for secret in secrets if secret)
    started = time.monotonic()
    outcomes: dict[int, Outcome] = {}
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        futures = {
            pool.submit(_apply_one, by_kind[change.kind], change, hidden): index
            for index, change in enumerate(changes)
        }
        for future in as_completed(futures):
            outcome = future.result()
            outcomes[futures[future]] = outcome
            if on_outcome is not None:
                on_outcome(outcome)
    ordered = tuple(outcomes[index] for index in range(len(changes)))
    return ApplyReport(ordered, time.monotonic() - started)


def _apply_one(provider: Provider, change: Change, secrets: tuple[str, ...]) -> Outcome:
    started = time.monotonic()
    try:
        applied = provider.apply(change)
    except VendorError as error:
        failure = Failure(error.vendor, redact(error.message, secrets), error.status, error.code)
        return Outcome(change, failure=failure, seconds=time.monotonic() - started)
    except OSError as error:  # a knowledge file unreadable at apply time
        failure = Failure("local", redact(f"{type(error).__name__}: {error}", secrets))
        return Outcome(change, failure=failure, seconds=time.monotonic() - started)
    except Exception as error:  # a bug: still report it, and let the other changes finish
        LOGGER.debug("unexpected error applying %s", change.address, exc_info=True)
        message = redact(
            f"unexpected error (a bug in Horizon): {type(error).__name__}: {error}", secrets
        )
        return Outcome(
            change, failure=Failure("horizon", message), seconds=time.monotonic() - started
        )
    return Outcome(change, applied=applied, seconds=time.monotonic() - started)
