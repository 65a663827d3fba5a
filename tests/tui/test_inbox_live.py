"""The main screen against a real inbox-server: keys, read changes, filters, paging, live updates."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from inbox_tui import messages
from inbox_tui.api.client import CoderClient
from inbox_tui.api.errors import ApiError
from inbox_tui.api.models import CUSTOM_TEMPLATE_ID
from inbox_tui.app import InboxApp
from inbox_tui.widgets.header import InboxHeader
from inbox_tui.widgets.inbox_list import NotificationOption
from tests.live_server import LiveServer
from tests.tui.helpers import Posted, inbox_screen, seed_custom, settle, wait_delivered, wait_for

SIZE = (120, 40)


@pytest.fixture
async def member(live_server: LiveServer) -> AsyncIterator[CoderClient]:
    """An API client for the member, for seeding and for checking the server's side."""
    async with CoderClient(live_server.url, live_server.member_token) as client:
        yield client


async def wait_refused(url: str, token: str) -> None:
    """Until the server refuses the token (it caches sessions for a moment after a revoke)."""
    async with CoderClient(url, token) as client:
        for _ in range(300):
            try:
                await client.me()
            except ApiError as exc:
                assert exc.status == 401
                return
            await asyncio.sleep(0.05)
    raise AssertionError("the revoked token is still accepted")


def titles(app: InboxApp) -> list[str]:
    """Titles in list order."""
    return [app.state.by_id[i].title for i in inbox_screen(app).inbox.ids]


def shown_read_marks(app: InboxApp) -> list[bool]:
    """The read mark of every row the list shows, in list order."""
    inbox = inbox_screen(app).inbox
    options = [inbox.get_option_at_index(i) for i in range(inbox.option_count)]
    return [o.notification.is_read for o in options if isinstance(o, NotificationOption)]


def highlighted_title(app: InboxApp) -> str | None:
    """Title of the highlighted notification."""
    notification = inbox_screen(app).inbox.notification
    return None if notification is None else notification.title


async def test_navigation_keys(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 12)
    app = InboxApp(CoderClient(live_server.url, live_server.member_token), owns_client=True, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert titles(app)[:3] == ["Custom 11", "Custom 10", "Custom 9"]
        assert highlighted_title(app) == "Custom 11"
        await pilot.press("j", "j")
        assert highlighted_title(app) == "Custom 9"
        await pilot.press("k")
        assert highlighted_title(app) == "Custom 10"
        await pilot.press("G")
        assert highlighted_title(app) == "Custom 0"
        await pilot.press("g")
        assert highlighted_title(app) == "Custom 11"
        await pilot.press("ctrl+d")
        half = inbox_screen(app).inbox.highlighted
        assert half is not None and half > 1
        await pilot.press("ctrl+u")
        assert highlighted_title(app) == "Custom 11"


async def test_toggle_read_reaches_the_server(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 3)
    app = InboxApp(CoderClient(live_server.url, live_server.member_token), owns_client=True, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "r")
        target = inbox_screen(app).inbox.notification
        assert target is not None and target.is_read  # optimistic, at once
        assert app.query_one(InboxHeader).unread == 2
        await settle(pilot)
        page = await member.list_inbox()
        on_server = {n.id: n for n in page.notifications}
        assert on_server[target.id].is_read and page.unread_count == 2
        await pilot.press("r")
        await settle(pilot)
        page = await member.list_inbox()
        assert not {n.id: n for n in page.notifications}[target.id].is_read
        assert page.unread_count == 3 and app.state.unread_count == 3


async def test_refused_toggle_is_rolled_back(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 2)
    token = live_server.create_token(live_server.member_username)
    app = InboxApp(CoderClient(live_server.url, token), owns_client=True, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # The server stops accepting this session: the next change is refused with 401.
        assert live_server.cli("tokens", "revoke", token).returncode == 0
        await wait_refused(live_server.url, token)
        await pilot.press("r")
        await settle(pilot)
        current = inbox_screen(app).inbox.notification
        assert current is not None and not current.is_read
        assert app.state.unread_count == 2 and app.query_one(InboxHeader).unread == 2
        toasts = [n for n in app._notifications if n.severity == "error"]
        assert toasts and toasts[-1].title == "Error on marking notification as read."
    page = await member.list_inbox()
    assert page.unread_count == 2 and not any(n.is_read for n in page.notifications)


async def test_mark_all_read_asks_first(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 4)
    app = InboxApp(CoderClient(live_server.url, live_server.member_token), owns_client=True, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await pilot.press("n")
        await settle(pilot)
        assert (await member.list_inbox()).unread_count == 4
        await pilot.press("A", "y")
        assert app.state.unread_count == 0
        assert all(app.state.by_id[i].is_read for i in app.state.ids)
        await settle(pilot)
    page = await member.list_inbox()
    assert page.unread_count == 0 and all(n.is_read for n in page.notifications)


async def test_refused_mark_all_is_rolled_back(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 3)
    token = live_server.create_token(live_server.member_username)
    app = InboxApp(CoderClient(live_server.url, token), owns_client=True, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.query_one(InboxHeader).unread == 3
        # The server stops accepting this session: the mark-all is refused with 401.
        assert live_server.cli("tokens", "revoke", token).returncode == 0
        await wait_refused(live_server.url, token)
        await pilot.press("A", "y")
        await settle(pilot)
        # Every row is unread again and the header counts them, as before the refused change.
        assert shown_read_marks(app) == [False] * 3
        assert app.state.unread_count == 3 and app.query_one(InboxHeader).unread == 3
        toasts = [n for n in app._notifications if n.severity == "error"]
        assert toasts and toasts[-1].title == "Error on marking all notifications as read."
    page = await member.list_inbox()
    assert page.unread_count == 3 and not any(n.is_read for n in page.notifications)


async def test_unread_only_filter(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 3)
    first = (await member.list_inbox()).notifications[0]
    await member.set_read(first.id, True)
    app = InboxApp(CoderClient(live_server.url, live_server.member_token), owns_client=True, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert len(app.state) == 3
        await pilot.press("u")
        await settle(pilot)
        assert titles(app) == ["Custom 1", "Custom 0"]
        assert "unread only" in app.query_one(InboxHeader).scope
        await pilot.press("u")
        await settle(pilot)
        assert len(titles(app)) == 3


async def test_read_status_template_and_target_filters(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 2)
    workspace = str(uuid.uuid4())
    for name in ("alpha", "beta"):
        done = live_server.cli(
            "notify",
            "--user",
            live_server.member_username,
            "--template",
            "Workspace Deleted",
            "--label",
            f"name={name}",
            "--label",
            "reason=test",
            "--label",
            "initiator=owner",
            "--target",
            workspace if name == "alpha" else str(uuid.uuid4()),
        )
        assert done.returncode == 0, done.stderr
    await wait_delivered(member, 4)
    read_one = next(n for n in (await member.list_inbox()).notifications if n.title == "Custom 0")
    await member.set_read(read_one.id, True)
    app = InboxApp(CoderClient(live_server.url, live_server.member_token), owns_client=True, watch=False)
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        assert len(app.state) == 4
        screen = inbox_screen(app)

        # Read status "read", picked in the filter screen.
        await pilot.press("f")
        await settle(pilot)
        await pilot.click("#read-status-read")
        await pilot.click("#filter-apply")
        await settle(pilot)
        assert titles(app) == ["Custom 0"]

        # One template, from the server's list (the custom one).
        await pilot.press("f")
        await settle(pilot)
        await pilot.click("#read-status-all")
        from textual.widgets import SelectionList

        templates = app.screen.query_one("#filter-templates", SelectionList)
        templates.select(CUSTOM_TEMPLATE_ID)
        await pilot.click("#filter-apply")
        await settle(pilot)
        assert sorted(titles(app)) == ["Custom 0", "Custom 1"]
        assert "Custom Notification" in app.query_one(InboxHeader).scope

        # One target, picked from the targets seen on loaded notifications.
        screen.apply_filters(type(app.state.filters)())
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        targets = app.screen.query_one("#filter-targets", SelectionList)
        targets.select(workspace)
        await pilot.click("#filter-apply")
        await settle(pilot)
        assert len(titles(app)) == 1 and "alpha" in titles(app)[0]
        assert app.state.filters.targets == (workspace,)


async def test_paging_through_sixty(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 60)
    app = InboxApp(CoderClient(live_server.url, live_server.member_token), owns_client=True, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert len(app.state) == 25 and app.state.has_more
        for _ in range(5):
            await pilot.press("G")
            await settle(pilot)
        assert not app.state.has_more
        assert titles(app) == [f"Custom {i}" for i in range(59, -1, -1)]
        assert highlighted_title(app) is not None


async def test_live_arrival_keeps_the_cursor(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 5)
    app = InboxApp(CoderClient(live_server.url, live_server.member_token), owns_client=True)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await settle(pilot)
        await posted.wait(messages.LinkChanged, "the watch to go live", lambda m: m.link.state == "live")
        await pilot.press("j", "j")
        assert highlighted_title(app) == "Custom 2"
        await member.send_custom("Fresh", "Just **now**")
        await posted.wait(messages.NewUnread, "the arrival", lambda m: [n.title for n in m.notifications] == ["Fresh"])
        assert titles(app)[0] == "Fresh"
        assert highlighted_title(app) == "Custom 2"
        assert app.state.unread_count == 6 and app.query_one(InboxHeader).unread == 6
        assert len(set(app.state.ids)) == len(app.state.ids) == 6


async def test_server_restart_reconnects_and_resyncs(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 3)
    app = InboxApp(CoderClient(live_server.url, live_server.member_token), owns_client=True)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await settle(pilot)
        up = await posted.wait(messages.LinkChanged, "the watch to go live", lambda m: m.link.state == "live")
        live_server.stop()
        down = await posted.wait(
            messages.LinkChanged,
            "a reconnecting state",
            lambda m: m.link.state in ("reconnecting", "connecting"),
            since=up,
        )
        assert app.query_one(InboxHeader).link.state in ("reconnecting", "connecting")
        # While the server is down, notifications are enqueued straight into its database.
        for name in ("one", "two", "three"):
            done = live_server.cli(
                "notify",
                "--user",
                live_server.member_username,
                "--template",
                "Workspace Deleted",
                "--label",
                f"name={name}",
                "--label",
                "reason=test",
                "--label",
                "initiator=owner",
            )
            assert done.returncode == 0, done.stderr
        live_server.start()
        await posted.wait(
            messages.LinkChanged,
            "the watch to come back",
            lambda m: m.link.state == "live",
            since=down,
            limit=60,
        )
        await wait_for(pilot, lambda: len(app.state) == 6, "the missed notifications", limit=60)
        await settle(pilot)
        await pilot.pause(0.5)
        ids = inbox_screen(app).inbox.ids
        assert len(ids) == len(set(ids)) == 6
        assert len(app.state.ids) == len(set(app.state.ids)) == 6
        assert app.state.unread_count == 6
        missed = [t for t in titles(app) if "Custom" not in t]
        assert len(missed) == 3
