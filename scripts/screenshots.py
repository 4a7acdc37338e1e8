"""Screenshots of the operator panel over the demo's data, for the README and docs/.

Runs `horizon demo --keep-running` (sandbox, the example clients reconciled, webhook and
panel), lets a few more users write to every client, then opens the real pages in
headless Chromium (Debian's, driven by Playwright) and writes docs/screenshots/*.png.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--chromium PATH]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# More users than the demo's one, so lists and figures have a few rows.
MORE_TRAFFIC = (
    ("+34611112222", "¿Tenéis mesa para cuatro esta noche?"),
    ("+34622223333", "Do you deliver on Sundays?"),
    ("+14155554321", "Hi, what time do you close?"),
)
# A follow-up from one of them, so the conversation shown has more than one exchange.
FOLLOW_UP = ("+34611112222", "¿Y tenéis opciones sin gluten?")
DESKTOP = {"width": 1280, "height": 640}
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Demo:
    sandbox_url: str
    panel_url: str
    token: str
    numbers: list[str]


@contextmanager
def running_demo(timeout: float = 90.0) -> Iterator[Demo]:
    """`horizon demo --keep-running` in the repository, until the block ends."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "OPENAI_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "horizon", "demo", "--keep-running"],
        cwd=REPO,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
    )
    try:
        yield read_demo(process, timeout)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def read_demo(process: subprocess.Popen, timeout: float) -> Demo:
    """Where the demo's parts answer, from what it prints."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Press Ctrl-C" in line:
            break
    output = "".join(lines)
    sandbox = re.search(r"Sandbox .* on (http://\S+)", output)
    panel = re.search(r"Panel on (http://\S+)", output)
    token = re.search(r"log in with the token (\S+?)\)", output)
    if not (sandbox and panel and token):
        raise SystemExit(f"the demo did not start as expected:\n{output}")
    numbers = re.findall(r"→ \S.* \((\+\d+)\): ", output)
    return Demo(sandbox.group(1), panel.group(1).rstrip("/"), token.group(1), numbers)


def add_traffic(demo: Demo) -> None:
    """Messages from a few more users to every client, then a follow-up from one of them,
    each batch sent once the one before is answered."""
    with httpx.Client(base_url=demo.sandbox_url, timeout=10, trust_env=False) as http:
        for batch in (MORE_TRAFFIC, [FOLLOW_UP]):
            expected = len(replies(http)) + len(batch) * len(demo.numbers)
            for user, body in batch:
                for number in demo.numbers:
                    payload = {"from": user, "to": number, "body": body}
                    http.post("/__sandbox__/inbound", json=payload).raise_for_status()
            deadline = time.monotonic() + 30
            while len(replies(http)) < expected:
                if time.monotonic() > deadline:
                    raise SystemExit("the clients did not answer the extra messages in 30 s")
                time.sleep(0.2)


def replies(http: httpx.Client) -> list[dict]:
    listing = http.get("/__sandbox__/messages", params={"direction": "outbound-api"})
    return listing.raise_for_status().json()["messages"]


def shoot(demo: Demo, out: Path, chromium: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=DESKTOP, device_scale_factor=1)
            page = context.new_page()
            log_in(page, demo)
            written = desktop_pages(page, demo, out)
            phone = browser.new_context(
                viewport=PHONE, device_scale_factor=2, storage_state=context.storage_state()
            ).new_page()
            phone.goto(demo.panel_url + "/")
            settle(phone)
            written.append(save(phone, out / "phone.png", full_page=False))
        finally:
            browser.close()
    return written


def log_in(page: Any, demo: Demo) -> None:
    page.goto(demo.panel_url + "/login")
    page.fill("input[name=token]", demo.token)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def desktop_pages(page: Any, demo: Demo, out: Path) -> list[Path]:
    written = []
    page.goto(demo.panel_url + "/")
    settle(page)
    written.append(save(page, out / "fleet.png"))
    page.goto(demo.panel_url + "/clients/pizzeria-roma")
    settle(page)
    written.append(save(page, out / "client.png"))
    page.goto(demo.panel_url + "/conversations?client=pizzeria-roma")
    settle(page)
    page.locator("#conversations a", has_text=FOLLOW_UP[0][-4:]).click()
    page.wait_for_load_state("networkidle")
    settle(page)
    written.append(save(page, out / "conversation.png"))
    page.goto(demo.panel_url + "/system")
    settle(page)
    written.append(save(page, out / "system.png"))
    return written


def settle(page: Any) -> None:
    """Wait until the page's requests are done and its charts have drawn."""
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)  # chart animations


def save(page: Any, path: Path, full_page: bool = True) -> Path:
    page.screenshot(path=str(path), full_page=full_page)
    print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument(
        "--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser")
    )
    args = parser.parse_args()
    if not args.chromium:
        raise SystemExit("Chromium is not installed (apt-get install chromium)")
    with running_demo() as demo:
        add_traffic(demo)
        shoot(demo, args.out.resolve(), args.chromium)


if __name__ == "__main__":
    main()
