"""Textual SVG screenshots of the inbox, preferences, compose and admin screens for the README.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--size 120x34]

Deterministic: the inbox is the fixed sample inbox of the snapshot tests with the clock stopped, times in
UTC; the other screens are drawn over it and read a temporary inbox-server (fresh SQLite database, the
bundled templates, default settings) started for the run and stopped by its PID afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from textual.pilot import Pilot  # noqa: E402
from textual.screen import Screen  # noqa: E402
from textual.worker import WorkerState  # noqa: E402

from inbox_tui.api.client import CoderClient  # noqa: E402
from inbox_tui.app import InboxApp, fixed_clock  # noqa: E402
from inbox_tui.screens.admin import AdminScreen  # noqa: E402
from inbox_tui.screens.compose import ComposeScreen  # noqa: E402
from inbox_tui.screens.preferences import PreferencesScreen  # noqa: E402
from inbox_tui.state import InboxState  # noqa: E402
from inbox_tui.widgets.header import Link  # noqa: E402
from tests.live_server import LiveServer  # noqa: E402
from tests.tui.factories import NOW, sample_inbox  # noqa: E402

COMPOSE_TITLE = "Nightly build finished"
COMPOSE_MESSAGE = """\
## main is green

All **412** tests passed in `4m 12s`.

- coverage 91% (+0.4)
- 0 flaky tests
- [build log](https://ci.example.com/builds/1874)
"""

Opener = Callable[[CoderClient], Screen[Any]]


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until every worker is done and the screen is drawn."""
    app = pilot.app
    for _ in range(100):
        busy = [w for w in app.workers if w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
        if not busy:
            break
        await app.workers.wait_for_complete(busy)
        await pilot.pause()
    await pilot.pause(0.3)  # debounced widgets (the Markdown preview) catch up
    await pilot.pause()


async def shoot(size: tuple[int, int], server: LiveServer | None, token: str, open_: Opener | None) -> str:
    """Draw the sample inbox, open a screen over it (if any) and return the SVG."""
    app = InboxApp(
        initial=InboxState.from_notifications(sample_inbox()), clock=fixed_clock(NOW), link=Link("live"), watch=False
    )
    client = CoderClient(server.url, token) if server is not None else None
    try:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            if open_ is not None and client is not None:
                await app.push_screen(open_(client))
                await settle(pilot)
            svg = app.export_screenshot(title="inbox-tui")
    finally:
        if client is not None:
            await client.aclose()
    return svg


async def take_all(size: tuple[int, int]) -> dict[str, str]:
    """File name -> SVG for every screenshot."""
    shots = {"inbox.svg": await shoot(size, None, "", None)}
    with tempfile.TemporaryDirectory(prefix="inbox-tui-screens-") as workdir:
        server = LiveServer(Path(workdir)).start()
        try:
            member, owner = server.member_token, server.owner_token
            shots["preferences.svg"] = await shoot(size, server, member, lambda client: PreferencesScreen(client))
            shots["compose.svg"] = await shoot(
                size,
                server,
                member,
                lambda client: ComposeScreen(client, title=COMPOSE_TITLE, message=COMPOSE_MESSAGE),
            )
            shots["admin.svg"] = await shoot(size, server, owner, lambda client: AdminScreen(client))
        finally:
            server.stop()
    return shots


def parse_size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    return int(width), int(height)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--size", type=parse_size, default=(120, 34), help="terminal WIDTHxHEIGHT (120x34)")
    args = parser.parse_args(argv)
    # The preview prints absolute times in the local zone: pin it so every run draws the same.
    os.environ["TZ"] = "UTC"
    time.tzset()
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for name, svg in asyncio.run(take_all(args.size)).items():
        path = out / name
        path.write_text(svg, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
