"""Benchmark what hostile client files cost to refuse: an alias bomb, a file of too many
values, one nested too deep, one over the size cap.

Each sits beside a valid client in a fresh clients/ directory and is loaded the way
`horizon validate`, `horizon reconcile` and `/api/reload` load it (`load_fleet`, and a
live config's reload). Prints medians and the slowest run. Target: every hostile file
refused in under 100 ms.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from horizon.config.loader import load_fleet
from horizon.webhook.live_config import LiveConfig

DATA = Path(__file__).parent.parent / "tests" / "data"
VALID = (DATA / "valid" / "000-valid.yaml").read_text(encoding="utf-8")
HEAD = 'name: Hostile\nnumber: "+34910000249"\nassistant:\n  instructions: Hi.\n'
TARGET_MS = 100.0


def hostile_files() -> dict[str, str]:
    """Name -> content of each hostile file."""
    items = "  - 1\n" * 40_000  # 240 KB: under the size cap
    return {
        "alias bomb (9^8 values)": (DATA / "broken" / "alias-bomb.yaml").read_text("utf-8"),
        "40,000 values": f"{HEAD}metadata:\n  many:\n{items}",
        "nested 200 deep": f"{HEAD}metadata:\n  deep: {'[' * 200}{']' * 200}\n",
        "4 MiB of comments": HEAD + ("# " + "x" * 1022 + "\n") * 4096,
    }


def timings(function: Callable[[], object], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000, max(samples) * 1000


def command_ms(directory: Path, runs: int) -> float:
    """`horizon validate` beyond interpreter start-up and imports (a valid directory's run)."""
    horizon = [sys.executable, "-m", "horizon", "validate", "--clients-dir", str(directory)]
    return timings(lambda: subprocess.run(horizon, capture_output=True, check=False), runs)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    logging.getLogger("horizon.events").disabled = True  # reload logs each rejection
    print(f"median / slowest of {args.runs} runs, in ms (target < {TARGET_MS:.0f} ms)")
    with tempfile.TemporaryDirectory() as scratch:
        baseline = Path(scratch) / "valid" / "clients"
        baseline.mkdir(parents=True)
        (baseline / "valid.yaml").write_text(VALID, encoding="utf-8")
        valid_command = command_ms(baseline, 5)
        worst = 0.0
        for index, (name, text) in enumerate(hostile_files().items()):
            clients = Path(scratch) / str(index) / "clients"
            clients.mkdir(parents=True)
            (clients / "valid.yaml").write_text(VALID, encoding="utf-8")
            (clients / "hostile.yaml").write_text(text, encoding="utf-8")
            result = load_fleet(clients)
            assert [c.id for c in result.fleet] == ["valid"], result.errors
            live = LiveConfig(result.fleet, clients)
            loaded = timings(lambda clients=clients: load_fleet(clients), args.runs)
            reloaded = timings(live.reload, args.runs)
            command = command_ms(clients, 5) - valid_command
            worst = max(worst, loaded[1], reloaded[1])
            print(f"  {name:<26} {result.errors[0].message[:60]}")
            print(
                f"    load_fleet {loaded[0]:7.2f} / {loaded[1]:7.2f}   "
                f"reload {reloaded[0]:7.2f} / {reloaded[1]:7.2f}   "
                f"`horizon validate` {command:+7.1f} over a valid directory"
            )
    verdict = "met" if worst < TARGET_MS else "MISSED"
    print(f"slowest refusal: {worst:.2f} ms (target < {TARGET_MS:.0f} ms: {verdict})")


if __name__ == "__main__":
    main()
