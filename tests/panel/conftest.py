"""Fixtures for the panel's end-to-end tests in a real headless Chromium.

`panel_world` is the demo's world, built once per module: a sandbox, the repository's
example clients reconciled into it, a webhook that answered real conversations, and the
panel over the webhook's database. `browser` is Debian's Chromium driven by Playwright;
`page` is a new logged-in tab that records console errors and CSP violations, and fails
the test that caused any.

Without Chromium (or Playwright) the browser tests skip with the reason, except in CI
(`CI` set), where they fail: .ci/run installs Chromium.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from horizon.config.fleet import Fleet
from horizon.config.loader import load_fleet
from horizon.ops.drift import DriftChecker
from horizon.panel.server import start_in_thread as start_panel
from horizon.sandbox.options import SandboxOptions
from horizon.sandbox.server import start_in_thread as start_sandbox
from horizon.settings import Settings
from horizon.store.store import Store
from tests.conftest import FAST, SandboxHandle
from tests.contracts.recorded import VENDOR_REQUESTS

REPO = Path(__file__).parent.parent.parent
TOKEN = "panel-test-token-0123456789"
# Without the background-networking flags Chromium keeps calling home, and a closed
# network refuses it; --no-sandbox because CI runs as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Who writes to the demo clients, and what: a few users, so that lists and figures have
# more than one row. The last user's number ends in 4321 (the masked form the UI shows).
USERS = ("+34600000001", "+34611112222", "+14155554321")
QUESTIONS = ("Hi! Are you open today?", "¿Tenéis algo para el dolor de cabeza?")
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__horizonCspViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}`
  );
});
"""


def chromium_executable() -> str | None:
    """Debian's Chromium (HORIZON_CHROMIUM names another build)."""
    return (
        os.environ.get("HORIZON_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


def browser_missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the browser tests (.ci/run installs Chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium for a module's tests.

    Not for the whole run: while Playwright's synchronous API is open, its event loop is
    the thread's running loop, and every later test's asyncio.run() would refuse to start.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        browser_missing("Playwright is not installed (pip install -e '.[dev]')")
    executable = chromium_executable()
    if executable is None:
        browser_missing("Chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class PanelWorld:
    """The running demo: where each part answers, its settings and fleet."""

    sandbox: SandboxHandle
    settings: Settings
    fleet: Fleet
    clients_dir: Path
    webhook_url: str
    panel_url: str
    token: str = TOKEN
    _stack: ExitStack = field(default_factory=ExitStack, repr=False)

    def url(self, path: str) -> str:
        return self.panel_url + path

    def converse(self, user: str, client_number: str, body: str, timeout: float = 30.0) -> dict:
        """One message from `user`, returned once its reply has left (the outbound message)."""
        before = len(self.replies(user, client_number))
        self.sandbox.inbound(user, client_number, body)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            replies = self.replies(user, client_number)
            if len(replies) > before:
                return replies[0]
            time.sleep(0.05)
        raise AssertionError(f"no reply from {client_number} to {user} within {timeout} s")

    def replies(self, user: str, client_number: str) -> list[dict]:
        query = {"to": user, "direction": "outbound-api"}  # encoded: the numbers' "+"
        listing = self.sandbox.http.get("/__sandbox__/messages", params=query)
        messages = listing.raise_for_status().json()["messages"]
        return [m for m in messages if m["from"].removeprefix("whatsapp:") == client_number]


def committed_clients(directory: Path) -> Path:
    """The example clients in a git repository of their own, so the panel shows a commit."""
    shutil.copytree(REPO / "clients", directory / "clients")
    shutil.copy(REPO / "schema.json", directory / "schema.json")
    git = ["git", "-c", "user.name=Horizon Tests", "-c", "user.email=tests@horizon.example"]
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "Clients"]):
        subprocess.run([*git, *args], cwd=directory, check=True, capture_output=True)
    return directory / "clients"


def reconcile_fleet(fleet: Fleet, settings: Settings) -> None:
    from horizon.providers import build_providers
    from horizon.reconcile import reconcile

    result = reconcile(fleet, build_providers(settings))
    assert result.ok, result.report


def refresh_drift_until(page: Any, world: PanelWorld, client_id: str, status: str) -> Any:
    """Click "Refresh drift", then reload the fleet until `client_id`'s sync cell shows
    `status`; the cell."""
    page.goto(world.url("/"))
    with page.expect_navigation():
        page.click("#drift-refresh")
    cell = page.locator(f'#fleet tr[data-client="{client_id}"] [data-col="sync"]')
    for _ in range(150):
        if cell.get_attribute("data-status") == status:
            return cell
        page.wait_for_timeout(200)
        page.reload()
    raise AssertionError(f"{client_id} never showed {status}: {cell.text_content()}")


@pytest.fixture(scope="module")
def panel_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PanelWorld]:
    from horizon.webhook.server import start_in_thread as start_webhook

    root = tmp_path_factory.mktemp("panel-world")
    clients_dir = committed_clients(root)
    with ExitStack() as stack:
        sandbox = SandboxHandle(start_sandbox(SandboxOptions(**FAST), observer=VENDOR_REQUESTS))
        stack.callback(sandbox.close)
        settings = Settings(
            _env_file=None,
            **sandbox.env(),
            HORIZON_PUBLIC_URL=None,
            HORIZON_CLIENTS_DIR=str(clients_dir),
            HORIZON_DATABASE_URL=f"sqlite:///{root / 'horizon.db'}",
            HORIZON_ADMIN_TOKEN=TOKEN,
        )
        webhook = stack.enter_context(start_webhook(settings))
        settings = settings.model_copy(update={"public_url": webhook.public_url})
        fleet = load_fleet(clients_dir).fleet
        reconcile_fleet(fleet, settings)
        store = Store.open(settings.database_url)
        stack.callback(store.close)
        drift = DriftChecker(settings, clients_dir)
        drift.start()
        stack.callback(drift.stop)
        panel = stack.enter_context(start_panel(settings, store, clients_dir, drift))
        world = PanelWorld(sandbox, settings, fleet, clients_dir, webhook.url, panel.url)
        for n, user in enumerate(USERS):
            for client in fleet:
                world.converse(user, client.number, QUESTIONS[n % len(QUESTIONS)])
        yield world


@pytest.fixture(scope="module")
def session_state(browser: Any, panel_world: PanelWorld) -> dict:
    """A logged-in session's cookies, made once through the login form."""
    context = browser.new_context()
    page = context.new_page()
    log_in(page, panel_world)
    state = context.storage_state()
    context.close()
    return state


def log_in(page: Any, world: PanelWorld) -> None:
    page.goto(world.url("/login"))
    page.fill("#token", world.token)
    with page.expect_navigation():
        page.click("#login")
    assert "/login" not in page.url, page.locator("main").inner_text()


@dataclass
class PageProblems:
    """What a page complained of: console errors, CSP violations, uncaught exceptions."""

    console: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    expected: tuple[str, ...] = ()  # console errors the test provokes on purpose

    def all(self) -> list[str]:
        console = [m for m in self.console if not any(e in m for e in self.expected)]
        return console + self.csp + self.exceptions


def watch(page: Any, expected: tuple[str, ...] = ()) -> PageProblems:
    problems = PageProblems(expected=expected)
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and problems.console.append(f"{message.text} ({message.location.get('url')})")
        ),
    )
    page.on("pageerror", lambda error: problems.exceptions.append(str(error)))
    # Exposed through the DevTools protocol, so the listener runs whatever the CSP says.
    page.expose_function("__horizonCspViolation", lambda text: problems.csp.append(text))
    page.add_init_script(CSP_LISTENER)
    return problems


@pytest.fixture
def open_page(browser: Any, session_state: dict) -> Iterator[Any]:
    """open_page(logged_in=True, expected=(), **context_options): a watched tab, closed
    after the test; any console error (but those containing an `expected` text), CSP
    violation or uncaught exception fails the test."""
    opened: list[tuple[Any, PageProblems]] = []

    def open_(logged_in: bool = True, expected: tuple[str, ...] = (), **options: Any) -> Any:
        state = session_state if logged_in else None
        context = browser.new_context(storage_state=state, **options)
        page = context.new_page()
        page.set_default_timeout(15_000)
        opened.append((page, watch(page, expected)))
        return page

    yield open_
    problems = [problem for page, watched in opened for problem in watched.all()]
    for page, _ in opened:
        page.context.close()
    assert not problems, "the pages reported problems:\n" + "\n".join(problems)


@pytest.fixture
def page(open_page: Any) -> Any:
    """A logged-in tab of a desktop's size."""
    return open_page(viewport={"width": 1280, "height": 900})


@pytest.fixture
def anonymous_http(panel_world: PanelWorld) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=panel_world.panel_url, timeout=10, trust_env=False) as http:
        yield http
