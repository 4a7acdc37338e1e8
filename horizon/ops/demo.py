"""`horizon demo`: the whole system on this machine with no credentials.

Sandbox, reconcile (plan and apply), webhook, and one WhatsApp message per client, each
exchange printed as it happens; then everything stops.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from horizon.config.fleet import Fleet
from horizon.config.loader import load_fleet
from horizon.settings import Settings

DEMO_USER = "+34600000001"
QUESTION = "Hi! Are you open today?"

Echo = Callable[[str], None]


class DemoError(Exception):
    """The demo cannot run or did not complete; the message says why."""


@dataclass(frozen=True)
class Exchange:
    """One simulated conversation turn: the user's message and the client's reply."""

    client_id: str
    question: str
    reply: str
    seconds: float


@dataclass(frozen=True)
class DemoWorld:
    """Where the running demo can be reached."""

    sandbox_url: str
    webhook_url: str
    admin_token: str
    log_path: Path


def run_demo(
    clients_dir: Path,
    echo: Echo,
    *,
    timeout: float = 30.0,
    keep_running: Callable[[DemoWorld, Settings], None] | None = None,
) -> list[Exchange]:
    """Run the demo; with `keep_running`, stay up until that call returns.

    `keep_running` gets where the demo runs and its settings (database, admin token), so
    that it can run more beside it: the CLI starts the panel there.
    """
    fleet = _load(clients_dir)
    with _world(clients_dir) as (world, settings):
        echo(f"Sandbox (Twilio + OpenAI emulator) on {world.sandbox_url}")
        echo(f"Webhook on {world.webhook_url}  (logs: {world.log_path})\n")
        _reconcile(fleet, settings, echo)
        exchanges = converse(world.sandbox_url, fleet, echo, timeout=timeout)
        unanswered = sorted(set(fleet.by_id) - {exchange.client_id for exchange in exchanges})
        if unanswered:
            raise DemoError(f"no reply within {timeout:.0f} s from: {', '.join(unanswered)}")
        echo(next_steps(world, keep_running is not None, fleet.clients[0].number))
        if keep_running is not None:
            keep_running(world, settings)
    return exchanges


def _load(clients_dir: Path) -> Fleet:
    result = load_fleet(clients_dir)
    if not result.ok:
        details = "\n".join(str(error) for error in result.errors)
        raise DemoError(f"the client files have errors (see `horizon validate`):\n{details}")
    if not len(result.fleet):
        raise DemoError(f"no client files in {clients_dir}")
    return result.fleet


@contextmanager
def _world(clients_dir: Path) -> Iterator[tuple[DemoWorld, Settings]]:
    """A sandbox and a webhook on free loopback ports, with state in a scratch folder."""
    from horizon.sandbox.server import start_in_thread as start_sandbox
    from horizon.telemetry.logs import configure_json_logging
    from horizon.webhook.server import start_in_thread as start_webhook

    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="horizon-demo-")))
        log_path = scratch / "webhook.log"
        log_file = stack.enter_context(log_path.open("w", encoding="utf-8"))
        configure_json_logging(stream=log_file)
        sandbox = stack.enter_context(start_sandbox())
        token = secrets.token_urlsafe(16)
        settings = Settings(
            _env_file=None,
            **sandbox.env(),
            HORIZON_PUBLIC_URL=None,
            HORIZON_CLIENTS_DIR=str(clients_dir),
            HORIZON_DATABASE_URL=f"sqlite:///{scratch / 'demo.db'}",
            HORIZON_ADMIN_TOKEN=token,
        )
        webhook = stack.enter_context(start_webhook(settings))
        settings = settings.model_copy(update={"public_url": webhook.public_url})
        yield DemoWorld(sandbox.url, webhook.url, token, log_path), settings


def _reconcile(fleet: Fleet, settings: Settings, echo: Echo) -> None:
    from horizon.providers import build_providers
    from horizon.reconcile import reconcile
    from horizon.reconcile.render_text import render_report_text, render_text

    echo("$ horizon reconcile\n")
    show = lambda plan: echo(render_text(plan))  # noqa: E731
    result = reconcile(fleet, build_providers(settings), on_plan=show)
    if result.report is not None:
        echo(render_report_text(result.report))
    if not result.ok:
        raise DemoError("reconcile did not apply cleanly; see the summary above")


def converse(sandbox_url: str, fleet: Fleet, echo: Echo, *, timeout: float) -> list[Exchange]:
    """Send one WhatsApp message to every client; print each reply as it arrives."""
    echo(f"Sending one WhatsApp message from {DEMO_USER} to each client…\n")
    sent: dict[str, float] = {}
    exchanges: list[Exchange] = []
    with httpx.Client(base_url=sandbox_url, timeout=10) as http:
        for client in fleet:
            echo(f"  {DEMO_USER} → {client.name} ({client.number}): {QUESTION}")
            sent[client.number] = time.monotonic()
            payload = {"from": DEMO_USER, "to": client.number, "body": QUESTION}
            http.post("/__sandbox__/inbound", json=payload).raise_for_status()
        echo("")
        deadline = time.monotonic() + timeout
        while sent and time.monotonic() < deadline:
            for number, reply in _replies(http).items():
                if number in sent:
                    client = fleet.by_number[number]
                    seconds = time.monotonic() - sent.pop(number)
                    echo(f"  {client.name} → {DEMO_USER} ({seconds:.1f} s): {reply}\n")
                    exchanges.append(Exchange(client.id, QUESTION, reply, seconds))
            time.sleep(0.1)
    return exchanges


def _replies(http: httpx.Client) -> dict[str, str]:
    """The first reply each client number sent to the demo user, by client number."""
    listing = http.get(
        "/__sandbox__/messages", params={"to": DEMO_USER, "direction": "outbound-api"}
    )
    replies: dict[str, str] = {}
    for message in listing.raise_for_status().json()["messages"]:
        replies.setdefault(message["from"].removeprefix("whatsapp:"), message["body"])
    return replies


def next_steps(world: DemoWorld, keep_running: bool, example_number: str) -> str:
    lines = ["Every client answered. Where to look next:"]
    if keep_running:
        message = f'{{"from": "{DEMO_USER}", "to": "{example_number}", "body": "hola"}}'
        lines += [
            f"  curl {world.webhook_url}/healthz",
            f"  curl {world.webhook_url}/metrics",
            f"  curl -H 'Authorization: Bearer {world.admin_token}' "
            f"{world.webhook_url}/api/clients",
            f"  curl {world.sandbox_url}/__sandbox__/inbound "
            f"-H 'Content-Type: application/json' -d '{message}'",
            f"  curl {world.sandbox_url}/__sandbox__/messages",
        ]
    else:
        lines += [
            "  horizon demo --keep-running   leaves the sandbox and webhook up to explore",
            "  horizon sandbox               runs the emulator alone; export what it prints, then",
            "  horizon reconcile --dry-run   plans clients/ against it",
            "  README.md                     the client file format and every command",
        ]
    return "\n".join(lines)
