"""Pytest glue: every vendor request the tests' sandboxes receive is checked against the specs.

tests/conftest.py starts each sandbox with `observer=VENDOR_REQUESTS` (recorded.py). After a
test's body has run, the requests made since its setup began are checked; any violation fails
the test with the operation, field, reason and offending value. Two markers narrow that:

- `invalid_vendor_requests`: the test sends malformed requests on purpose, to see the sandbox
  reject them; its requests that the sandbox answered with a 4xx are not checked. Both
  conditions are needed: a marker alone would also excuse the test's well-formed calls, and a
  4xx alone would excuse any Horizon request that met an injected 429, a 404 or a locked
  conversation. A request the sandbox wrongly accepts (2xx) is still checked.
- `known_violation(id)`: the test makes a request listed in KNOWN_DEFECTS; that violation is
  tolerated and the test reported as an expected failure, strictly (it fails once fixed).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest

from horizon.sandbox.recorder import RecordedRequest
from tests.contracts.checker import Violation, check
from tests.contracts.known import known_defect, known_exception
from tests.contracts.recorded import VENDOR_REQUESTS
from tests.contracts.specs import load_specs

INVALID_ON_PURPOSE = "invalid_vendor_requests"
KNOWN_VIOLATION = "known_violation"


class VendorContractBroken(AssertionError):
    """A request sent during the test breaks a vendor's published spec."""


class KnownVendorDefect(AssertionError):
    """The test made a request listed in KNOWN_DEFECTS (its expected failure)."""


@dataclass
class Tally:
    """Totals for the closing summary."""

    requests: int = 0
    operations: Counter[str] = field(default_factory=Counter)
    exempt: int = 0  # answered 4xx in a test marked invalid_vendor_requests
    excepted: Counter[str] = field(default_factory=Counter)  # KNOWN_EXCEPTIONS ids
    tolerated: Counter[str] = field(default_factory=Counter)  # KNOWN_DEFECTS ids

    def as_json(self) -> dict:
        return {
            "requests": self.requests,
            "operations": dict(self.operations),
            "exempt": self.exempt,
            "excepted": dict(self.excepted),
            "tolerated": dict(self.tolerated),
        }

    def add(self, other: dict) -> None:
        self.requests += other["requests"]
        self.exempt += other["exempt"]
        for name in ("operations", "excepted", "tolerated"):
            getattr(self, name).update(other[name])


TALLY = Tally()
START = pytest.StashKey[int]()
CALL_END = pytest.StashKey[int]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{INVALID_ON_PURPOSE}: the test sends malformed vendor requests on purpose; those the "
        "sandbox answers with a 4xx are not checked against the specs (tests/contracts)",
    )
    config.addinivalue_line(
        "markers",
        f"{KNOWN_VIOLATION}(id): the test makes a request listed in tests/contracts/known.py "
        "KNOWN_DEFECTS; an expected failure until that request is fixed",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for marker in item.iter_markers(KNOWN_VIOLATION):
            defect = known_defect(*marker.args)
            reason = f"known vendor-contract defect {defect.id}: {defect.field} on "
            reason += ", ".join(defect.operations)
            item.add_marker(pytest.mark.xfail(raises=KnownVendorDefect, strict=True, reason=reason))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before any fixture: fixtures make vendor requests too (seeding senders, numbers).
    item.stash[START] = len(VENDOR_REQUESTS)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    # Checked here, not in a fixture's teardown: a failure there would be an error of the
    # teardown, which `xfail` cannot expect, rather than a failure of the test.
    result = yield  # a failing test body raises here and is reported as it is
    records = VENDOR_REQUESTS.since(item.stash[START])
    item.stash[CALL_END] = item.stash[START] + len(records)
    _verdict(item, records, expect_known=True)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    result = yield
    if CALL_END in item.stash:  # requests still arriving after the body (background work)
        _verdict(item, VENDOR_REQUESTS.since(item.stash[CALL_END]), expect_known=False)
    return result


def _verdict(item: pytest.Item, records: list[RecordedRequest], expect_known: bool) -> None:
    on_purpose = item.get_closest_marker(INVALID_ON_PURPOSE) is not None
    expected = {marker.args[0] for marker in item.iter_markers(KNOWN_VIOLATION)}
    broken: list[str] = []
    tolerated: Counter[str] = Counter()
    for record in records:
        violations = check(
            record.method, record.path, record.query, record.content_type, record.body
        )
        TALLY.requests += 1
        if (operation := load_specs().match(record.method, record.path).operation) is not None:
            TALLY.operations[operation.operation_id] += 1
        if on_purpose and record.status and 400 <= record.status < 500 and record.status != 429:
            TALLY.exempt += 1
            continue
        shown = []
        for violation in violations:
            if (known := known_exception(violation)) is not None:
                TALLY.excepted[known.id] += 1
            elif (defect := _expected_defect(violation, expected)) is not None:
                tolerated[defect] += 1
            else:
                shown.append(f"    {violation}")
        if shown:
            broken.append(f"  {_describe(record)}\n" + "\n".join(shown))
    TALLY.tolerated.update(tolerated)
    if broken:
        raise VendorContractBroken(
            f"{len(broken)} vendor request(s) break the vendors' published specs "
            "(tests/contracts/README.md):\n" + "\n".join(broken)
        )
    if not expect_known:
        return
    if missing := sorted(expected - set(tolerated)):
        raise AssertionError(
            f"known_violation {', '.join(missing)} no longer happens in this test: "
            "remove the marker (and the entry in tests/contracts/known.py if it is gone everywhere)"
        )
    if tolerated:
        raise KnownVendorDefect(", ".join(f"{name} ×{n}" for name, n in sorted(tolerated.items())))


def _expected_defect(violation: Violation, expected: set[str]) -> str | None:
    return next((name for name in expected if known_defect(name).matches(violation)), None)


def _describe(record: RecordedRequest) -> str:
    query = f"?{record.query}" if record.query else ""
    return f"{record.method} {record.path}{query} (sandbox answered {record.status})"


def pytest_sessionfinish(session: pytest.Session) -> None:
    # Under pytest-xdist each worker checks its own tests; the controller sums their tallies.
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["vendor_contracts"] = TALLY.as_json()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    tally = getattr(node, "workeroutput", {}).get("vendor_contracts")
    if tally:
        TALLY.add(tally)


def pytest_terminal_summary(terminalreporter) -> None:
    if not TALLY.requests:
        return
    line = (
        f"vendor contracts: {TALLY.requests} requests checked against the specs, "
        f"{len(TALLY.operations)} operations; "
        f"{TALLY.exempt} exempt (4xx, sent malformed on purpose)"
    )
    for label, counts in (("known exceptions", TALLY.excepted), ("known defects", TALLY.tolerated)):
        if counts:
            line += f"; {label}: " + ", ".join(f"{name} ×{n}" for name, n in sorted(counts.items()))
    terminalreporter.write_line(line)
