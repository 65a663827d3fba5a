"""A watch cancelled while it closes (the app quitting, then the event loop's teardown) leaves no connection
open: a stopped server never answers the close handshake, and the second cancellation must not leave the
socket behind (it would surface later as an unclosed-transport warning in whatever runs next)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable

from websockets.protocol import State

from inbox_tui.api.client import CoderClient
from inbox_tui.api.watch import ConnectionState, InboxWatcher, StateChanged, WatchItem
from tests.live_server import LiveServer


async def wait_until(condition: Callable[[], bool], what: str, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def test_cancelled_twice_while_closing_the_connection_is_dropped(live_server: LiveServer) -> None:
    async with CoderClient(live_server.url, live_server.member_token) as client:
        watcher = InboxWatcher(client)
        items: asyncio.Queue[WatchItem] = asyncio.Queue()

        async def pump() -> None:
            async for item in watcher:
                await items.put(item)

        task = asyncio.create_task(pump())
        while True:
            item = await asyncio.wait_for(items.get(), 30)
            if isinstance(item, StateChanged) and item.state is ConnectionState.LIVE:
                break
        ws = watcher._ws
        assert ws is not None
        os.kill(live_server.pid, signal.SIGSTOP)  # it will never answer the close handshake
        try:
            task.cancel()  # Textual cancels the watch worker as the app quits...
            await wait_until(lambda: ws.protocol.state is State.CLOSING, "the close handshake to begin")
            task.cancel()  # ...and the event loop's teardown cancels what is still running
            with contextlib.suppress(asyncio.CancelledError):
                await task
            assert ws.transport.is_closing()
        finally:
            os.kill(live_server.pid, signal.SIGCONT)
