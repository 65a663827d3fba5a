"""Start-up: the garbage collector paused by `inbox-tui` for start-up is turned back on by the app."""

from __future__ import annotations

import gc

from inbox_tui.api.client import CoderClient
from inbox_tui.app import InboxApp
from tests.live_server import LiveServer
from tests.tui.helpers import inbox_screen, seed_custom, settle, wait_for

SIZE = (120, 40)


async def test_collector_back_on_once_the_first_page_is_painted(live_server: LiveServer) -> None:
    async with CoderClient(live_server.url, live_server.member_token) as member:
        await seed_custom(member, 3)
    app = InboxApp(CoderClient(live_server.url, live_server.member_token), owns_client=True, watch=False)
    app.collector_paused = True
    gc.disable()
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await wait_for(pilot, gc.isenabled, "the collector to be turned back on")
            assert not app.collector_paused
            assert inbox_screen(app).inbox.option_count == 3
    finally:
        gc.enable()


async def test_collector_back_on_when_the_first_page_fails(live_server: LiveServer) -> None:
    app = InboxApp(CoderClient(live_server.url, live_server.member_token), owns_client=True, watch=False)
    app.collector_paused = True
    live_server.stop()
    gc.disable()
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await wait_for(pilot, gc.isenabled, "the collector to be turned back on")
            assert not app.state.loaded
    finally:
        gc.enable()
