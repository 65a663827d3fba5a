"""Start-up: the garbage collector paused by `inbox-tui` for start-up is turned back on by the app."""

from __future__ import annotations

import gc

from inbox_tui import messages
from inbox_tui.api.client import CoderClient
from inbox_tui.app import InboxApp
from tests.live_server import LiveServer
from tests.tui.helpers import Posted, inbox_screen, seed_custom

SIZE = (120, 40)


async def test_collector_back_on_once_the_first_page_is_painted(live_server: LiveServer) -> None:
    async with CoderClient(live_server.url, live_server.member_token) as member:
        await seed_custom(member, 3)
    app = InboxApp(CoderClient(live_server.url, live_server.member_token), owns_client=True, watch=False)
    app.collector_paused = True
    gc.disable()
    try:
        posted = Posted()
        async with app.run_test(size=SIZE, message_hook=posted) as pilot:
            await posted.wait(messages.FirstPageShown, "the first page painted")
            await pilot.pause()
            assert gc.isenabled() and not app.collector_paused
            assert inbox_screen(app).inbox.option_count == 3
    finally:
        gc.enable()


async def test_collector_back_on_when_the_first_page_fails(live_server: LiveServer) -> None:
    app = InboxApp(CoderClient(live_server.url, live_server.member_token), owns_client=True, watch=False)
    app.collector_paused = True
    live_server.stop()
    gc.disable()
    try:
        posted = Posted()
        async with app.run_test(size=SIZE, message_hook=posted) as pilot:
            await posted.wait(messages.FirstPageFailed, "the first page failing")
            failed = await posted.wait(messages.WorkerFailed, "the failure reported")
            assert failed.group == "load"
            await pilot.pause()
            assert gc.isenabled() and not app.collector_paused
            assert not app.state.loaded
            assert not posted.of(messages.FirstPageShown)
    finally:
        gc.enable()
