"""Benchmark `horizon validate` on 1,000 generated client files against a bare YAML parse.

Prints medians over several runs. Targets: validation within 3x of a bare
`yaml.load(CSafeLoader)` of the same files, and under 1 s of work beyond interpreter
start-up for the whole command.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from horizon.config.loader import load_fleet

CLIENT = """\
# yaml-language-server: $schema=../schema.json
name: Business {i}
number: "+3491{i:07d}"
channel: whatsapp
enabled: true
assistant:
  model: gpt-5.4-mini
  instructions: |
    You are the assistant of Business {i}. Answer briefly and kindly.
    Opening hours are 9:00 to 18:00, Monday to Friday.
  temperature: 0.4
  max_output_tokens: 600
  knowledge:
    - business-{i}/faq.md
  memory_days: 7
profile:
  about: "Business number {i}"
  address: "Street {i}, Madrid"
  emails: ["hello{i}@example.com"]
  websites: ["https://business{i}.example.com"]
  vertical: Restaurant
limits:
  user_messages_per_hour: 30
  monthly_budget_usd: 50
metadata:
  owner: owner{i}@agency.example
  plan: basic
"""


def generate(directory: Path, count: int) -> None:
    for i in range(count):
        (directory / f"business-{i}.yaml").write_text(CLIENT.format(i=i), encoding="utf-8")
        (directory / f"business-{i}").mkdir()
        (directory / f"business-{i}" / "faq.md").write_text(f"# FAQ {i}\n", encoding="utf-8")


def bare_parse(directory: Path) -> int:
    files = sorted(directory.glob("*.yaml"))
    for path in files:
        yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    return len(files)


def median_seconds(function, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch) / "clients"
        directory.mkdir()
        generate(directory, args.clients)
        result = load_fleet(directory)
        assert result.ok and len(result.fleet) == args.clients, result.errors[:3]

        parse = median_seconds(lambda: bare_parse(directory), args.runs)
        validate = median_seconds(lambda: load_fleet(directory), args.runs)
        horizon = [sys.executable, "-m", "horizon", "validate", "--clients-dir", str(directory)]
        command = median_seconds(
            lambda: subprocess.run(horizon, check=True, capture_output=True), args.runs
        )
        bare_start = median_seconds(
            lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), args.runs
        )

    print(f"{args.clients} client files, median of {args.runs} runs")
    print(f"  bare yaml.load (CSafeLoader):   {parse * 1000:8.1f} ms")
    print(
        f"  horizon load_fleet (in process): {validate * 1000:8.1f} ms   "
        f"ratio {validate / parse:.2f}x (target <= 3x)"
    )
    print(f"  `horizon validate` command:      {command * 1000:8.1f} ms")
    print(f"  interpreter start-up:            {bare_start * 1000:8.1f} ms")
    print(
        f"  command beyond start-up:         {(command - bare_start) * 1000:8.1f} ms "
        "(target < 1000 ms)"
    )


if __name__ == "__main__":
    main()
