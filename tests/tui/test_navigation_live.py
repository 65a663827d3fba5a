"""Moving around the inbox against a real inbox-server (25 rows a page): focus after filter changes,
G and n beyond the loaded pages, the position indicator, count prefixes and bulk read changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from inbox_tui.api.client import CoderClient
from inbox_tui.app import InboxApp
from tests.live_server import LiveServer
from tests.tui.helpers import inbox_screen, seed_custom, settle, wait_for
from tests.tui.screen_text import screen_lines
from tests.tui.test_inbox_live import wait_refused

SIZE = (120, 40)


@pytest.fixture
async def member(live_server: LiveServer) -> AsyncIterator[CoderClient]:
    """An API client for the member, for seeding and for checking the server's side."""
    async with CoderClient(live_server.url, live_server.member_token) as client:
        yield client


class GatedTransport(httpx.AsyncBaseTransport):
    """A real HTTP transport that holds requests for older pages until `gate` is set."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.gate = asyncio.Event()
        self.gate.set()
        self.held = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "starting_before" in request.url.params:
            self.held += 1
            await self.gate.wait()
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def app_for(live_server: LiveServer, transport: httpx.AsyncBaseTransport | None = None) -> InboxApp:
    """The member's inbox, without the watch (these tests drive loads themselves)."""
    client = CoderClient(live_server.url, live_server.member_token, transport=transport)
    return InboxApp(client, owns_client=True, watch=False)


def highlighted_title(app: InboxApp) -> str | None:
    """Title of the highlighted notification."""
    notification = inbox_screen(app).inbox.notification
    return None if notification is None else notification.title


async def test_unread_only_keeps_the_list_focused(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 4)
    app = app_for(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        inbox = inbox_screen(app).inbox
        await pilot.press("j", "r")  # "Custom 2" read, so unread only hides it
        await settle(pilot)
        for _ in range(2):  # on, then off again
            await pilot.press("u")
            await settle(pilot)
            assert inbox.has_focus and inbox.highlighted == 0
            assert highlighted_title(app) == "Custom 3"
            await pilot.press("j")
            assert highlighted_title(app) in ("Custom 1", "Custom 2")
        await pilot.press("k", "r")  # acts on the row the user sees highlighted
        await settle(pilot)
        assert app.state.by_id[inbox.ids[0]].is_read


async def test_G_loads_every_older_page_and_shows_progress(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 60)
    app = app_for(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = inbox_screen(app)
        assert screen.inbox.option_count == 25 and app.state.has_more
        progress: list[str] = []
        screen.watch(screen.list_status, "activity", lambda value: progress.append(value), init=False)
        await pilot.press("G")  # one press, not one per page
        await settle(pilot)
        assert not app.state.has_more and screen.inbox.option_count == 60
        assert highlighted_title(app) == "Custom 0"
        assert progress[:2] == ["Loading to the end… 25 rows · esc stops", "Loading to the end… 50 rows · esc stops"]
        assert screen.list_status.activity == ""


async def test_esc_stops_G_and_the_list_stays_usable(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 60)
    transport = GatedTransport()
    app = app_for(live_server, transport)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = inbox_screen(app)
        transport.gate.clear()
        await pilot.press("G")
        await wait_for(pilot, lambda: transport.held == 1, "the older page's request")
        assert screen.list_status.activity.startswith("Loading to the end… 25 rows")
        assert highlighted_title(app) == "Custom 35"  # the oldest loaded at once
        await pilot.press("k", "k")  # usable meanwhile
        assert highlighted_title(app) == "Custom 37"
        await pilot.press("escape")
        transport.gate.set()
        await settle(pilot)
        assert screen.list_status.activity == "" and app.state.has_more
        assert screen.inbox.option_count == 25 and highlighted_title(app) == "Custom 37"


async def test_n_loads_older_pages_until_it_finds_an_unread(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 60)
    # Everything read but the oldest two (on the third page) and the newest.
    await member.mark_all_read()
    first = await member.list_inbox()
    second = await member.list_inbox(starting_before=first.notifications[-1].id)
    third = await member.list_inbox(starting_before=second.notifications[-1].id)
    for item in (first.notifications[0], *third.notifications[-2:]):
        await member.set_read(item.id, False)
    app = app_for(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.state.unread_count == 3 and app.state.has_more
        await pilot.press("n")  # the newest is highlighted: the next unread is two pages away
        await settle(pilot)
        assert highlighted_title(app) == "Custom 1"
        await pilot.press("n")
        await settle(pilot)
        assert highlighted_title(app) == "Custom 0"
        app._notifications.clear()
        await pilot.press("n")
        await settle(pilot)
        assert highlighted_title(app) == "Custom 0"
        assert [n.message for n in app._notifications] == ["No unread notification further down."]


@pytest.mark.parametrize("size", [(60, 20), (40, 15)])
async def test_position_indicator_fits_side_panes(
    live_server: LiveServer, member: CoderClient, size: tuple[int, int]
) -> None:
    await seed_custom(member, 30)
    app = app_for(live_server)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = inbox_screen(app)
        await pilot.press("j", "j")
        await settle(pilot)
        shown = "3/25+" if app.state.has_more else "3/30"
        await wait_for(pilot, lambda: screen.list_status.position == shown, "the position once the row rests")
        assert any(line.rstrip().endswith(f"{shown}") for line in screen_lines(app))
        await pilot.press("G")
        await settle(pilot)
        await wait_for(pilot, lambda: screen.list_status.position == "30/30", "the position at the end")
        lines = screen_lines(app)
        assert any(line.rstrip().endswith("30/30") for line in lines)
        assert all(len(line) == size[0] for line in lines)


async def test_a_counted_G_loads_older_pages_to_reach_the_row(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 60)
    app = app_for(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert inbox_screen(app).inbox.option_count == 25
        await pilot.press("4", "0", "G")  # row 40 is on the second older page
        await settle(pilot)
        assert highlighted_title(app) == "Custom 20"
        await wait_for(pilot, lambda: inbox_screen(app).list_status.position.startswith("40/"), "the position")


async def test_r_on_a_selection_marks_every_selected_row(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 5)
    app = app_for(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = inbox_screen(app)
        await pilot.press("v", "j", "space")  # rows 1 and 3 (v and space move down after picking)
        picked = set(screen.inbox.selected)
        assert {app.state.by_id[nid].title for nid in picked} == {"Custom 4", "Custom 2"}
        assert screen.list_status.selected == 2 and "2 selected" in screen.list_status.left_text
        assert highlighted_title(app) == "Custom 1"
        await pilot.press("r")  # on the selection, not the highlighted row
        assert not screen.inbox.selected and screen.list_status.selected == 0
        await settle(pilot)
        on_server = {n.id: n for n in (await member.list_inbox()).notifications}
        assert {nid for nid, n in on_server.items() if n.is_read} == picked
        assert app.state.unread_count == 3
        await pilot.press("v", "escape")  # esc drops the selection
        assert not screen.inbox.selected and screen.list_status.selected == 0
        await pilot.press("g", "v", "j", "v")  # rows 1 and 3, both read now: r marks them unread again
        await pilot.press("r")
        await settle(pilot)
        assert (await member.list_inbox()).unread_count == 5


async def test_a_refused_bulk_change_rolls_back_each_row(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 4)
    token = live_server.create_token(live_server.member_username)
    app = InboxApp(CoderClient(live_server.url, token), owns_client=True, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = inbox_screen(app)
        assert live_server.cli("tokens", "revoke", token).returncode == 0
        await wait_refused(live_server.url, token)
        await pilot.press("v", "v", "v", "r")
        await settle(pilot)
        assert all(not app.state.by_id[nid].is_read for nid in screen.inbox.ids)
        assert app.state.unread_count == 4
        errors = [n for n in app._notifications if n.severity == "error"]
        assert len(errors) == 3  # one request, one failure and one rollback per row
    assert (await member.list_inbox()).unread_count == 4
