"""Helpers for Pilot tests: waiting on conditions and on workers (never on the endless watch worker)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import TypeVar

import httpx
from textual.message import Message
from textual.pilot import Pilot
from textual.worker import WorkerState

from inbox_tui.api.client import CoderClient
from inbox_tui.app import InboxApp
from inbox_tui.screens.inbox import InboxScreen

WAIT = 30.0  # generous: a slow CI box must not fail these; they assert outcomes, never speed

M = TypeVar("M", bound=Message)


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], what: str, limit: float = WAIT) -> None:
    """Let the app run until `condition()` holds (checked between frames)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


async def settle(pilot: Pilot[None]) -> None:
    """Wait for every finite worker (loads, read changes, resyncs) to finish; the watch runs forever."""
    app = pilot.app
    for _ in range(50):
        busy = [w for w in app.workers if w.group != "watch" and w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
        if not busy:
            break
        await app.workers.wait_for_complete(busy)
        await pilot.pause()
    await pilot.pause()


class Posted:
    """What the inbox screen told the app (the messages of inbox_tui/messages.py), in order.

    Pass it as `run_test(message_hook=posted)`. Textual calls the hook as each receiver dispatches a
    message; a message the screen posts bubbles to the app, so it is recorded once, when first seen.
    """

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._seen: set[int] = set()
        self._arrived = asyncio.Event()

    def __call__(self, message: Message) -> None:
        if type(message).__module__ == "inbox_tui.messages" and id(message) not in self._seen:
            self._seen.add(id(message))  # the list keeps it alive, so its id is not reused
            self.messages.append(message)
            self._arrived.set()

    def of(self, kind: type[M]) -> list[M]:
        """The messages of one kind so far."""
        return [m for m in self.messages if isinstance(m, kind)]

    async def wait(
        self,
        kind: type[M],
        what: str,
        where: Callable[[M], bool] = lambda _: True,
        *,
        since: Message | None = None,
        limit: float = WAIT,
    ) -> M:
        """The first message of `kind` (posted after `since`, if given) for which `where` holds, waiting
        until the screen posts one."""
        deadline = time.monotonic() + limit
        while True:
            start = 0 if since is None else self.messages.index(since) + 1
            found = [m for m in self.messages[start:] if isinstance(m, kind) and where(m)]
            if found:
                return found[0]
            self._arrived.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {kind.__name__} message: {what}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)


def inbox_screen(app: InboxApp) -> InboxScreen:
    """The inbox screen of a running app."""
    screen = app.inbox_screen
    assert screen is not None
    return screen


async def seed_custom(client: CoderClient, count: int, prefix: str = "Custom") -> None:
    """Send `count` custom notifications to the client's own user and wait until all are delivered."""
    before = (await client.list_inbox()).unread_count
    for i in range(count):
        await client.send_custom(f"{prefix} {i}", f"Message **{i}** of {prefix.lower()}")
    await wait_delivered(client, before + count)


async def wait_delivered(client: CoderClient, unread: int, limit: float = WAIT) -> None:
    """Poll the list until the unread count reaches `unread` (delivery is asynchronous)."""
    deadline = time.monotonic() + limit
    while (await client.list_inbox()).unread_count < unread:
        if time.monotonic() > deadline:
            raise AssertionError(f"fewer than {unread} notifications delivered in {limit}s")
        await asyncio.sleep(0.05)


class CountingTransport(httpx.AsyncBaseTransport):
    """A real HTTP transport that records every request it sends (to count what a check costs)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def lists(self, read_status: str | None = None) -> list[httpx.Request]:
        """The inbox list requests sent so far (with this read_status, when given)."""
        out = [r for r in self.requests if r.url.path.endswith("/notifications/inbox")]
        if read_status is not None:
            out = [r for r in out if r.url.params.get("read_status", "all") == read_status]
        return out
