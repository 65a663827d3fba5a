"""Cold start to the first painted inbox, beside a bare Textual app showing a 25-row OptionList.

Run: .venv/bin/python -m benchmarks.tui_startup
Goal (issue 4): ours <= 1.5x the bare app. Both run on a pseudo-terminal with Textual's real driver; the
clock stops at the end of the first frame that shows the content (our newest notification, fetched from a
real inbox-server over HTTP; the bare app's 25th option). Runs alternate; medians are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.harness import update_readme
from benchmarks.tui_pty import PtyApp
from inbox_tui.api.client import CoderClient
from tests.live_server import LiveServer


async def seed(url: str, token: str, count: int) -> None:
    """`count` custom notifications for the member, delivered."""
    async with CoderClient(url, token) as client:
        for i in range(count):
            await client.send_custom(f"Bench {i}", f"Startup benchmark notification **{i}**")
        for _ in range(600):
            if (await client.list_inbox()).unread_count >= count:
                return
            await asyncio.sleep(0.05)
        raise RuntimeError("the seeded notifications were not delivered")


def measure(argv: list[str], marker: bytes, env: dict[str, str]) -> float:
    """Seconds from spawn to the end of the first frame showing `marker`."""
    app = PtyApp(argv, cols=120, rows=35, env=env).start()
    try:
        elapsed = app.first_frame_with(marker, timeout=60)
        if elapsed is None:
            tail = app.text_since(max(0, len(app.term.data) - 2000)).decode("utf-8", "replace")
            raise RuntimeError(f"{argv[:3]} never showed {marker!r}; last output:\n{tail}")
        return elapsed
    finally:
        app.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()
    inbox_tui = str(Path(sys.executable).with_name("inbox-tui"))
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp) / "server").start()
        try:
            asyncio.run(seed(server.url, server.member_token, 30))
            env = {
                # Installed packages run from bytecode; so must ours (the dev shell may disable .pyc writes).
                "PYTHONDONTWRITEBYTECODE": "",
                "PYTHONPYCACHEPREFIX": f"{tmp}/pycache",
                "INBOX_TUI_CONFIG_DIR": f"{tmp}/config",
                "INBOX_TUI_DATA_DIR": f"{tmp}/data",
                "INBOX_TUI_STATE_DIR": f"{tmp}/state",
                "CODER_CONFIG_DIR": f"{tmp}/coder",
            }
            ours_argv = [inbox_tui, "--url", server.url, "--token", server.member_token]
            bare_argv = [sys.executable, "-m", "benchmarks.tui_apps", "bare", "--rows", "25"]
            # One warm-up each (file cache, .pyc), then alternate.
            measure(ours_argv, b"Bench 29", env)
            measure(bare_argv, b"Option 24", env)
            ours: list[float] = []
            bare: list[float] = []
            for _ in range(args.runs):
                ours.append(measure(ours_argv, b"Bench 29", env))
                bare.append(measure(bare_argv, b"Option 24", env))
        finally:
            server.stop()
    ours_ms = statistics.median(ours) * 1000
    bare_ms = statistics.median(bare) * 1000
    ratio = ours_ms / bare_ms
    verdict = "ok" if ratio <= 1.5 else "over goal"
    lines = [
        "| cold start to first painted inbox (median of "
        f"{args.runs}) | ours | bare Textual, 25-row OptionList | ratio | goal |",
        "|---|---|---|---|---|",
        f"| pty, 120x35, first page over HTTP | {ours_ms:.0f} ms | {bare_ms:.0f} ms | {ratio:.2f}x "
        f"| <= 1.5x ({verdict}) |",
    ]
    text = "\n".join(lines)
    print(text)
    print(f"ours runs (ms): {', '.join(f'{v * 1000:.0f}' for v in ours)}")
    print(f"bare runs (ms): {', '.join(f'{v * 1000:.0f}' for v in bare)}")
    if not args.no_readme:
        update_readme("tui_startup", text + "\n\n`.venv/bin/python -m benchmarks.tui_startup`")


if __name__ == "__main__":
    main()
