"""Paused delivery in the inbox's header, against a real inbox-server: asked after the first page, on each
check tick, and at once when the admin screen pauses or resumes (issue 11)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from textual.message import Message

from inbox_tui import messages
from inbox_tui.api.client import CoderClient
from inbox_tui.app import InboxApp
from inbox_tui.screens.admin import AdminScreen
from inbox_tui.screens.confirm import ConfirmScreen
from inbox_tui.widgets.header import InboxHeader
from tests.live_server import LiveServer
from tests.tui.helpers import CountingTransport, Posted, inbox_screen, seed_custom, settle, wait_for

SIZE = (120, 30)


@pytest.fixture
async def owner(live_server: LiveServer) -> AsyncIterator[CoderClient]:
    """The owner's client: pauses and resumes delivery from "another client"."""
    async with CoderClient(live_server.url, live_server.owner_token) as client:
        yield client


def header(app: InboxApp) -> InboxHeader:
    return inbox_screen(app).query_one(InboxHeader)


def header_text(app: InboxApp) -> str:
    return header(app).render().plain


async def test_a_member_sees_delivery_paused_elsewhere_within_one_check(
    live_server: LiveServer, owner: CoderClient
) -> None:
    async with CoderClient(live_server.url, live_server.member_token) as member:
        await seed_custom(member, 2)
    await owner.set_paused(True)
    # No timer (check_interval=0): the ticks below are the only checks besides the one after the first page.
    app = InboxApp(CoderClient(live_server.url, live_server.member_token), owns_client=True, watch=False)
    app.check_interval = 0
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await posted.wait(messages.FirstPageShown, "the first page painted")
        await wait_for(pilot, lambda: header(app).paused, "the header to say paused after the first page")
        assert "paused" in header_text(app)

        await owner.set_paused(False)
        inbox_screen(app)._check_tick()  # one read-marks check tick
        await settle(pilot)
        assert not header(app).paused
        assert "paused" not in header_text(app)

        await owner.set_paused(True)
        inbox_screen(app)._check_tick()
        await settle(pilot)
        assert header(app).paused
        assert "paused" in header_text(app)


async def test_pausing_in_the_admin_screen_shows_at_once(live_server: LiveServer, owner: CoderClient) -> None:
    app = InboxApp(CoderClient(live_server.url, live_server.owner_token), owns_client=True, watch=False)
    app.check_interval = 0
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await posted.wait(messages.FirstPageShown, "the first page painted")
        await settle(pilot)
        assert not header(app).paused
        app.action_open_screen("admin")
        await wait_for(pilot, lambda: isinstance(app.screen, AdminScreen) and app.screen.settings is not None, "admin")
        await settle(pilot)
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        changed = await posted.wait(messages.DeliveryPausedChanged, "the admin screen to say it paused")
        assert changed.paused
        await pilot.pause()
        # No check ran meanwhile (no timer, no watch): the admin screen's word is what the header shows.
        assert header(app).paused
        assert (await owner.settings()).notifier_paused is True

        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await posted.wait(messages.DeliveryPausedChanged, "resumed", lambda m: not m.paused, since=changed)
        await pilot.pause()
        assert not header(app).paused


async def test_a_reconnect_asks_again(live_server: LiveServer, owner: CoderClient) -> None:
    app = InboxApp(CoderClient(live_server.url, live_server.member_token), owns_client=True)
    app.check_interval = 0
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        up = await posted.wait(messages.LinkChanged, "the watch to go live", lambda m: m.link.state == "live")
        await settle(pilot)
        assert not header(app).paused
        await owner.set_paused(True)  # unseen: no timer, and the watch does not carry settings
        live_server.restart()
        down = await posted.wait(messages.LinkChanged, "the watch to drop", lambda m: m.link.state != "live", since=up)
        await posted.wait(messages.LinkChanged, "back", lambda m: m.link.state == "live", since=down, limit=60)
        await wait_for(pilot, lambda: header(app).paused, "the header to say paused after the reconnect")


async def test_the_settings_are_asked_once_and_only_after_the_first_page_is_painted(live_server: LiveServer) -> None:
    async with CoderClient(live_server.url, live_server.member_token) as member:
        await seed_custom(member, 2)
    transport = CountingTransport()
    client = CoderClient(live_server.url, live_server.member_token, transport=transport)
    app = InboxApp(client, owns_client=True, watch=False, check_interval=0)
    sent_before_paint: list[int] = []

    def hook(message: Message) -> None:
        if isinstance(message, messages.FirstPageShown) and not sent_before_paint:
            sent_before_paint.append(len(transport.requests))

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await wait_for(pilot, lambda: bool(sent_before_paint), "the first page painted")
        await settle(pilot)
    asked = [i for i, r in enumerate(transport.requests) if r.url.path.endswith("/notifications/settings")]
    assert len(asked) == 1 and asked[0] >= sent_before_paint[0]
