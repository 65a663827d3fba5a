"""Run every benchmark in turn (`make bench`); each prints its table and updates README."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Order: server core, live delivery, replicas, then the terminal app.
BENCHMARKS = [
    "benchmarks.api_list",
    "benchmarks.custom_rate",
    "benchmarks.watch_latency",
    "benchmarks.watch_fanout",
    "benchmarks.replicas",
    "benchmarks.abuse",
    "benchmarks.tui_startup",
    "benchmarks.tui_scale",
    "benchmarks.local_restart",
    "benchmarks.status_line",
]


def main() -> int:
    """Run each module that exists; report failures at the end."""
    failed = []
    for module in BENCHMARKS:
        if not (ROOT / (module.replace(".", "/") + ".py")).exists():
            continue
        print(f"== {module}", flush=True)
        if subprocess.run([sys.executable, "-m", module], cwd=ROOT).returncode != 0:
            failed.append(module)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
