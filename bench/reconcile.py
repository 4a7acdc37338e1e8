"""Benchmark reconcile against the sandbox: 1,000 clients, 20 ms of latency on every API call.

Reports API requests and wall time of a no-change plan and of a first full apply (at the
default parallelism and at --parallelism 1), beside the requests a per-resource refresh
(one GET per resource, as Terraform refreshes state) would need. Targets: a no-change plan
in at most 1 + 2 per 50 clients requests (20x fewer than per-resource refresh) and under
5 s; a full apply at least 6x faster than the same apply with --parallelism 1.

    .venv/bin/python bench/reconcile.py [--clients 1000] [--latency-ms 20] [--knowledge-every 4]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from horizon.config.fleet import Fleet
from horizon.config.loader import load_fleet
from horizon.providers.registry import build_providers
from horizon.reconcile.apply import apply_plan
from horizon.reconcile.plan import plan_fleet
from horizon.sandbox import DEFAULT_HOST
from horizon.sandbox.options import SandboxOptions
from horizon.sandbox.server import sandbox_env
from horizon.settings import Settings

CLIENT = """\
name: Business {i}
number: "+3491{i:07d}"
assistant:
  instructions: You are the assistant of Business {i}. Answer briefly and kindly.
{knowledge}profile:
  about: "Business number {i}"
  address: "Street {i}, Madrid"
  emails: ["hello{i}@example.com"]
  websites: ["https://business{i}.example.com"]
  vertical: Restaurant
"""


def write_clients(directory: Path, count: int, knowledge_every: int) -> None:
    for i in range(count):
        knowledge = ""
        if knowledge_every and i % knowledge_every == 0:
            (directory / f"business-{i}").mkdir()
            faq = f"# Business {i}\n\nOpen 9:00-18:00. Ask for item {i}.\n"
            (directory / f"business-{i}" / "faq.md").write_text(faq, encoding="utf-8")
            knowledge = f"  knowledge:\n    - business-{i}/faq.md\n"
        text = CLIENT.format(i=i, knowledge=knowledge)
        (directory / f"business-{i:04d}.yaml").write_text(text, encoding="utf-8")


class Bench:
    """One sandbox, the generated fleet, and the control API to count requests."""

    def __init__(self, fleet: Fleet, latency_ms: float, parallelism: int) -> None:
        self.fleet, self.latency_ms, self.parallelism = fleet, latency_ms, parallelism
        # A process of its own, so the emulator does not share this one's interpreter lock.
        port = free_port()
        command = [sys.executable, "-m", "horizon", "sandbox", "--port", str(port)]
        self.process = subprocess.Popen(
            [*command, "--sender-online-after", "0"], stdout=subprocess.DEVNULL
        )
        url = f"http://{DEFAULT_HOST}:{port}"
        self.control = httpx.Client(base_url=url, timeout=60, trust_env=False)
        wait_until_up(self.control)
        env = {**sandbox_env(url, SandboxOptions()), "HORIZON_PUBLIC_URL": "https://bots.example"}
        self.providers = build_providers(Settings(_env_file=None, **env))

    def reset(self) -> None:
        self.control.post("/__sandbox__/reset").raise_for_status()
        faults = {"latency_ms": self.latency_ms}
        self.control.post("/__sandbox__/faults", json=faults).raise_for_status()

    def requests(self) -> int:
        return self.control.get("/__sandbox__/requests").json()["total"]

    def measure(self, action: Callable[[], object]) -> tuple[float, int, object]:
        before = self.requests()
        started = time.perf_counter()
        result = action()
        return time.perf_counter() - started, self.requests() - before, result

    def full_apply(self, parallelism: int) -> tuple[float, int]:
        """A first apply into an empty world: plan, then apply every create."""
        self.reset()

        def run() -> object:
            plan = plan_fleet(self.fleet, self.providers)
            report = apply_plan(plan, self.providers, parallelism=parallelism)
            if not report.ok:
                raise SystemExit(f"apply failed: {report.failed[0].failure}")
            return report

        seconds, count, _ = self.measure(run)
        return seconds, count

    def no_change_plan(self) -> tuple[float, int]:
        seconds, count, plan = self.measure(lambda: plan_fleet(self.fleet, self.providers))
        if not plan.in_sync:
            raise SystemExit("the plan after apply is not empty")
        return seconds, count

    def close(self) -> None:
        self.control.close()
        self.process.terminate()
        self.process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((DEFAULT_HOST, 0))
        return sock.getsockname()[1]


def wait_until_up(control: httpx.Client, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            control.get("/__sandbox__/requests").raise_for_status()
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def per_resource_refresh(fleet: Fleet) -> int:
    """One GET per sender and per vector store, plus one file listing per store."""
    senders = sum(1 for client in fleet if client.channel == "whatsapp")
    numbers = sum(1 for client in fleet if client.channel == "sms")
    stores = sum(1 for client in fleet if client.assistant.knowledge)
    return senders + numbers + 2 * stores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--knowledge-every", type=int, default=4, help="1 in N has a file")
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--plan-runs", type=int, default=5)
    parser.add_argument("--apply-runs", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp) / "clients"
        directory.mkdir()
        write_clients(directory, args.clients, args.knowledge_every)
        started = time.perf_counter()
        fleet = load_fleet(directory).fleet
        load_seconds = time.perf_counter() - started
        bench = Bench(fleet, args.latency_ms, args.parallelism)
        try:
            report(bench, args, load_seconds)
        finally:
            bench.close()


def report(bench: Bench, args: argparse.Namespace, load_seconds: float) -> None:
    fleet = bench.fleet
    stores = sum(1 for client in fleet if client.assistant.knowledge)
    print(
        f"{len(fleet)} clients ({stores} with a knowledge file), "
        f"{args.latency_ms:g} ms latency per API call; loading clients/ took {load_seconds:.2f} s"
    )
    serial = [bench.full_apply(1) for _ in range(args.apply_runs)]
    parallel = [bench.full_apply(args.parallelism) for _ in range(args.apply_runs)]
    plans = [bench.no_change_plan() for _ in range(args.plan_runs)]

    plan_seconds = statistics.median(seconds for seconds, _ in plans)
    plan_requests = plans[0][1]
    budget = 1 + 2 * len(fleet) / 50
    refresh = per_resource_refresh(fleet)
    serial_seconds = statistics.median(seconds for seconds, _ in serial)
    parallel_seconds = statistics.median(seconds for seconds, _ in parallel)
    speedup = serial_seconds / parallel_seconds
    print(f"no-change plan:          {plan_requests:6d} requests  {plan_seconds:7.2f} s (median)")
    print(f"  budget 1 + 2 per 50 clients: {budget:.0f} requests; under 5 s")
    print(
        f"  per-resource refresh would need {refresh} requests: "
        f"{refresh / plan_requests:.0f}x more (target >= 20x)"
    )
    print(
        f"full apply, parallel {args.parallelism}:  {parallel[0][1]:6d} requests  "
        f"{parallel_seconds:7.2f} s"
    )
    print(f"full apply, parallel 1:  {serial[0][1]:6d} requests  {serial_seconds:7.2f} s")
    print(f"  speed-up {speedup:.1f}x (target >= 6x)")
    ok = plan_requests <= budget and plan_seconds < 5 and speedup >= 6
    print("targets met" if ok else "TARGETS MISSED")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
