"""A bare app that shows one of the preferences / compose / admin screens against a real server.

The inbox app pushes these screens itself; tests use this host so they exercise the screens alone (the
screens find the client on `app.client` when none is given, as inside the inbox app).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.worker import WorkerState

from inbox_tui.api.client import CoderClient

WAIT = 30.0  # generous: outcomes are asserted, never speed

ScreenFactory = Callable[[CoderClient], Screen[Any]]


class ScreenHost(App[None]):
    """Opens a client on mount, pushes the screen, closes the client on exit."""

    def __init__(self, url: str, token: str, make: ScreenFactory) -> None:
        super().__init__()
        self.url = url
        self.token = token
        self.make = make
        self.client: CoderClient | None = None
        self.screen_under_test: Screen[Any] | None = None

    def on_mount(self) -> None:
        self.client = CoderClient(self.url, self.token)
        self.screen_under_test = self.make(self.client)
        self.push_screen(self.screen_under_test)

    async def on_unmount(self) -> None:
        if self.client is not None:
            await self.client.aclose()


async def wait_for(pilot: Pilot[Any], condition: Callable[[], bool], what: str, within: float = WAIT) -> None:
    """Let the app run until `condition()` holds (checked between frames)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until no worker is pending or running (these screens have no endless workers)."""
    app = pilot.app
    for _ in range(50):
        busy = [w for w in app.workers if w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
        if not busy:
            break
        await app.workers.wait_for_complete(busy)
        await pilot.pause()
    await pilot.pause()
