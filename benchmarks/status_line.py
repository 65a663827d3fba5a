"""How long `inbox-tui status` takes against the shared local server, beside `python -c pass` (median of 21).

A status bar runs the command every few seconds, so the figure is a whole process: interpreter start,
connection resolution, one request over the local server's Unix socket, the printed line. It is run the
way the console script runs it (`from inbox_tui.entry import main`). Also timed in the same run, in turns
with the others so drift hits all alike: the floor, a bare `python -c pass` on the same interpreter, and
the same command through `python -m inbox_tui.cli status`, which imports the whole CLI (httpx and the
API models), for what the lean entry saves. The local server lives in a temporary data dir, is started
once before the rounds and stopped by PID after. Goal (issue 11): under 100 ms.
Run: `.venv/bin/python -m benchmarks.status_line`.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import update_readme

ROUNDS = 21
GOAL_MS = 100.0
ENTRY = "import sys\nfrom inbox_tui.entry import main\nsys.exit(main(['status']))\n"


def _env(root: Path, runtime: Path) -> dict[str, str]:
    """A user with nothing configured whose home is `root`: directories found as for a real user (the XDG
    defaults under HOME), only the runtime directory moved (a socket path must stay short)."""
    unset = ("CODER_URL", "CODER_SESSION_TOKEN", "CODER_CONFIG_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME")
    env = {k: v for k, v in os.environ.items() if k not in unset and not k.startswith("INBOX_TUI_")}
    env.update(
        {
            "HOME": str(root),
            "INBOX_TUI_RUNTIME_DIR": str(runtime),
            # Installed packages run from bytecode; so must ours (the dev shell may disable .pyc writes).
            "PYTHONDONTWRITEBYTECODE": "",
            "PYTHONPYCACHEPREFIX": str(root / "pycache"),
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        }
    )
    return env


def _timed(cmd: list[str], env: dict[str, str], expect: str | None) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run, in milliseconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if expect is not None and done.stdout != expect:
        raise SystemExit(f"{cmd!r} printed {done.stdout!r} (stderr {done.stderr!r}), expected {expect!r}")
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return elapsed, cpu


def main() -> int:
    """Time the three commands in turns and write the table into README (unless --no-readme)."""
    parser = argparse.ArgumentParser(description="Time `inbox-tui status` against the local server.")
    parser.add_argument("--no-readme", action="store_true", help="print the table only (e.g. on a busy machine)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory(dir="/tmp", prefix="st") as run:
        env = _env(Path(tmp), Path(run))
        cli = [sys.executable, "-m", "inbox_tui.cli"]
        subprocess.run([*cli, "server", "start"], env=env, check=True, capture_output=True)
        try:
            for i in range(3):
                subprocess.run([*cli, "send", f"Build {i}", "done"], env=env, check=True, capture_output=True)
            deadline = time.monotonic() + 30
            while _status_line(env) != "3 unread\n":
                if time.monotonic() > deadline:
                    raise SystemExit("the 3 notifications did not arrive")
                time.sleep(0.1)
            commands = {
                "floor": ([sys.executable, "-c", "pass"], None),
                "entry": ([sys.executable, "-c", ENTRY], "3 unread\n"),
                "cli": ([*cli, "status"], "3 unread\n"),
            }
            times: dict[str, list[float]] = {name: [] for name in commands}
            cpu: dict[str, list[float]] = {name: [] for name in commands}
            for cmd, expect in commands.values():  # warm the page cache once
                _timed(cmd, env, expect)
            for _ in range(ROUNDS):
                for name, (cmd, expect) in commands.items():
                    wall, used = _timed(cmd, env, expect)
                    times[name].append(wall)
                    cpu[name].append(used)
        finally:
            subprocess.run([*cli, "server", "stop"], env=env, capture_output=True)  # stops it by its PID
    wall = {name: statistics.median(values) for name, values in times.items()}
    used = {name: statistics.median(values) for name, values in cpu.items()}
    verdict = "ok" if wall["entry"] < GOAL_MS else "missed"
    rows = [
        ("floor: `python -c pass`", "floor"),
        ("**`inbox-tui status`** (console script: `inbox_tui.entry`)", "entry"),
        ("the same through `python -m inbox_tui.cli status` (loads httpx)", "cli"),
    ]
    lines = [
        f"| `inbox-tui status` against the local server (median of {ROUNDS}) | wall | above the floor | client CPU |",
        "|---|---|---|---|",
    ]
    for label, name in rows:
        above = "" if name == "floor" else f"{wall[name] - wall['floor']:+.0f} ms"
        lines.append(f"| {label} | {wall[name]:.0f} ms | {above} | {used[name]:.0f} ms |")
    text = (
        "\n".join(lines) + f"\n\nGoal: under {GOAL_MS:.0f} ms wall ({verdict}; 1-minute load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: CPU time is the steadier figure on a busy "
        "machine). `.venv/bin/python -m benchmarks.status_line`"
    )
    print(text)
    if not args.no_readme:
        update_readme("status_line", text)
    return 0


def _status_line(env: dict[str, str]) -> str:
    return subprocess.run([sys.executable, "-c", ENTRY], env=env, capture_output=True, text=True).stdout


if __name__ == "__main__":
    sys.exit(main())
