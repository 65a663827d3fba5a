"""InboxWatcher and resync against a real inbox-server: restart, catch up, nothing lost or doubled."""

from __future__ import annotations

import asyncio
import random

from inbox_tui.api.client import CoderClient
from inbox_tui.api.resync import merge_newest_first, resync
from inbox_tui.api.watch import Arrived, Backoff, ConnectionState, InboxWatcher, Reconnected, StateChanged, WatchItem
from tests.live_server import LiveServer


async def next_item(items: asyncio.Queue[WatchItem], kind: type, state: ConnectionState | None = None) -> WatchItem:
    while True:
        item = await asyncio.wait_for(items.get(), 30)
        if isinstance(item, kind) and (state is None or (isinstance(item, StateChanged) and item.state is state)):
            return item


async def test_resync_after_restart_catches_up_across_pages(live_server: LiveServer) -> None:
    async with (
        CoderClient(live_server.url, live_server.member_token) as client,
        CoderClient(live_server.url, live_server.member_token) as sender,
    ):
        # Backoff long enough that the watcher only comes back when told to (retry_now), so the
        # notifications below are certainly sent while it is disconnected.
        watcher = InboxWatcher(client, backoff=Backoff(base=3600.0, cap=3600.0, rng=random.Random(3)))
        items: asyncio.Queue[WatchItem] = asyncio.Queue()

        async def pump() -> None:
            async for item in watcher:
                await items.put(item)

        task = asyncio.create_task(pump())
        try:
            await next_item(items, StateChanged, ConnectionState.LIVE)
            await sender.send_custom("Seen live", "x")
            live = await next_item(items, Arrived)
            assert isinstance(live, Arrived) and live.event.notification.title == "Seen live"
            loaded = list((await client.list_inbox()).notifications)

            await asyncio.to_thread(live_server.stop)
            reconnecting = await next_item(items, StateChanged, ConnectionState.RECONNECTING)
            assert isinstance(reconnecting, StateChanged) and reconnecting.retry_in is not None
            await asyncio.to_thread(live_server.start)

            missed = [f"Missed {i}" for i in range(30)]  # more than one page
            for title in missed:
                await sender.send_custom(title, "y")
            for _ in range(300):
                if (await sender.list_inbox()).unread_count == 31:
                    break
                await asyncio.sleep(0.05)

            watcher.retry_now()
            await next_item(items, StateChanged, ConnectionState.LIVE)
            assert isinstance(await next_item(items, Reconnected), Reconnected)
            result = await resync(client, {n.id for n in loaded})
            assert result.complete and result.pages == 2
            assert [n.title for n in result.new] == list(reversed(missed))
            assert result.unread_count == 31
            merged = merge_newest_first(loaded, result.new)
            assert len(merged) == len({n.id for n in merged}) == 31

            # Live again: the next arrival comes through the socket, once.
            await sender.send_custom("After catch-up", "z")
            after = await next_item(items, Arrived)
            assert isinstance(after, Arrived) and after.event.notification.title == "After catch-up"
            assert after.event.unread_count == 32
            assert items.empty()
        finally:
            watcher.stop()
            await asyncio.wait_for(task, 30)
