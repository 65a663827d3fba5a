"""The open inbox never goes stale: read changes made by another client reach it (timer, focus, frames),
against a real inbox-server, without a reload that would lose the cursor."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from textual import events
from textual.message import Message
from textual.widgets.option_list import Option

from inbox_tui.api.client import CoderClient
from inbox_tui.app import InboxApp
from inbox_tui.screens.inbox import InboxScreen
from inbox_tui.widgets.header import InboxHeader
from inbox_tui.widgets.inbox_list import NotificationOption
from tests.live_server import LiveServer
from tests.tui.helpers import CountingTransport, inbox_screen, seed_custom, settle, wait_for

SIZE = (120, 40)
SHORT = 0.2  # a short check interval, so the timer test does not wait 15 s
OFF = 0.0  # no timer: focus and frames must do it on their own


@pytest.fixture
async def member(live_server: LiveServer) -> AsyncIterator[CoderClient]:
    """Another client of the same user: the one that changes things "elsewhere"."""
    async with CoderClient(live_server.url, live_server.member_token) as client:
        yield client


class Checks:
    """The read-marks checks the inbox screen reports (a message hook of run_test)."""

    def __init__(self) -> None:
        self.done: list[InboxScreen.ReadMarksChecked] = []

    def __call__(self, message: Message) -> None:
        if isinstance(message, InboxScreen.ReadMarksChecked) and message not in self.done:
            self.done.append(message)

    def by(self, trigger: str) -> list[InboxScreen.ReadMarksChecked]:
        return [m for m in self.done if m.trigger == trigger]


def make_app(
    live_server: LiveServer, *, interval: float, watch: bool, transport: CountingTransport | None = None
) -> InboxApp:
    client = CoderClient(live_server.url, live_server.member_token, transport=transport)
    return InboxApp(client, owns_client=True, watch=watch, check_interval=interval)


def shown(app: InboxApp) -> dict[str, bool]:
    """Title -> shown unread (the ● of the row), from the list widget itself."""
    inbox = inbox_screen(app).inbox
    out: dict[str, bool] = {}
    for index in range(inbox.option_count):
        option: Option = inbox.get_option_at_index(index)
        assert isinstance(option, NotificationOption)
        out[option.notification.title] = not option.notification.is_read
    return out


def highlighted_title(app: InboxApp) -> str | None:
    notification = inbox_screen(app).inbox.notification
    return None if notification is None else notification.title


def agrees(app: InboxApp) -> bool:
    """The header, the state and every row tell the same story."""
    rows = shown(app)
    header = app.query_one(InboxHeader).unread
    return header == app.state.unread_count == sum(rows.values()) and app.state.rows_agree_with_count()


async def test_read_all_elsewhere_reaches_the_open_inbox_within_the_interval(
    live_server: LiveServer, member: CoderClient
) -> None:
    await seed_custom(member, 3)
    checks = Checks()
    app = make_app(live_server, interval=SHORT, watch=False)
    async with app.run_test(size=SIZE, message_hook=checks) as pilot:
        await settle(pilot)
        assert app.query_one(InboxHeader).unread == 3 and all(shown(app).values())
        await member.mark_all_read()
        await wait_for(pilot, lambda: any(m.marks.stale for m in checks.by("timer")), "a timer check to see it")
        assert app.query_one(InboxHeader).unread == 0
        assert not any(shown(app).values()) and agrees(app)


async def test_focus_in_checks_at_once(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 3)
    checks = Checks()
    app = make_app(live_server, interval=OFF, watch=False)
    async with app.run_test(size=SIZE, message_hook=checks) as pilot:
        await settle(pilot)
        app.post_message(events.AppBlur())
        await member.mark_all_read()
        await pilot.pause()
        assert app.state.unread_count == 3  # no timer: nothing noticed it yet
        app.post_message(events.AppFocus())
        await wait_for(pilot, lambda: bool(checks.by("focus")), "the check on focus")
        assert checks.by("focus")[0].marks.stale
        assert app.query_one(InboxHeader).unread == 0
        assert not any(shown(app).values()) and agrees(app)


async def test_an_arrival_after_read_all_elsewhere_fixes_header_and_rows(
    live_server: LiveServer, member: CoderClient
) -> None:
    # The reported bug: read-all from another client, then the next arrival said "1 unread" while three
    # rows still showed ●.
    await seed_custom(member, 3)
    checks = Checks()
    app = make_app(live_server, interval=OFF, watch=True)
    async with app.run_test(size=SIZE, message_hook=checks) as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: app.link.state == "live", "the watch to go live")
        await wait_for(pilot, lambda: bool(checks.by("reconnect")), "the catch-up after going live")
        await member.mark_all_read()
        await member.send_custom("Fresh", "After the read-all")
        await wait_for(pilot, lambda: "Fresh" in shown(app), "the arrival")
        await wait_for(pilot, lambda: bool(checks.by("frame")), "the check the frame's count asks for")
        assert checks.by("frame")[0].marks.stale
        assert shown(app) == {"Fresh": True, "Custom 2": False, "Custom 1": False, "Custom 0": False}
        assert app.query_one(InboxHeader).unread == 1 and agrees(app)


async def test_a_single_toggle_elsewhere_is_reflected(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 3)
    target = (await member.list_inbox()).notifications[1]
    checks = Checks()
    app = make_app(live_server, interval=SHORT, watch=False)
    async with app.run_test(size=SIZE, message_hook=checks) as pilot:
        await settle(pilot)
        await member.set_read(target.id, True)
        await wait_for(pilot, lambda: not shown(app)[target.title], "the row to show read")
        assert app.query_one(InboxHeader).unread == 2 and agrees(app)
        await member.set_read(target.id, False)
        await wait_for(pilot, lambda: shown(app)[target.title], "the row to show unread again")
        assert app.query_one(InboxHeader).unread == 3 and agrees(app)


async def test_the_cursor_stays_on_its_notification(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 40)
    checks = Checks()
    app = make_app(live_server, interval=OFF, watch=False)
    async with app.run_test(size=(120, 20), message_hook=checks) as pilot:
        await settle(pilot)
        # Down into the second page (a reload would bring back the first page only).
        await pilot.press("G")
        await settle(pilot)
        await pilot.press("G", "k", "k", "k")
        await settle(pilot)
        inbox = inbox_screen(app).inbox
        assert len(inbox.ids) == 40 and highlighted_title(app) == "Custom 3"
        before = (inbox.notification, inbox.highlighted, inbox.scroll_y, list(inbox.ids))
        assert before[0] is not None and before[2] > 0
        await member.mark_all_read()
        app.post_message(events.AppFocus())
        await wait_for(pilot, lambda: bool(checks.by("focus")), "the check on focus")
        await settle(pilot)
        current = inbox.notification
        assert current is not None and current.id == before[0].id and current.is_read
        assert (inbox.highlighted, inbox.scroll_y, inbox.ids) == before[1:]
        assert agrees(app) and app.state.unread_count == 0


async def test_each_tick_costs_one_request_when_nothing_changed(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 30)
    await member.set_read((await member.list_inbox()).notifications[4].id, True)
    transport = CountingTransport()
    checks = Checks()
    # The timer's own period is not what is measured: its callback is driven tick by tick, and every
    # request the app sends is counted at the transport.
    app = make_app(live_server, interval=3600, watch=False, transport=transport)
    async with app.run_test(size=SIZE, message_hook=checks) as pilot:
        await settle(pilot)
        screen = inbox_screen(app)
        before = len(transport.requests)
        for tick in range(1, 6):
            screen._check_tick()
            await wait_for(pilot, lambda: len(checks.by("timer")) == tick, f"tick {tick}")  # noqa: B023
            await settle(pilot)
        sent = transport.requests[before:]
        # Each tick also asks whether delivery is paused (issue 11): one small GET of the settings.
        settings = [r for r in sent if r.url.path.endswith("/notifications/settings")]
        sent = [r for r in sent if r not in settings]
        assert len(sent) == 5 and len(settings) == 5
        assert all(
            r.url.path.endswith("/notifications/inbox") and r.url.params["read_status"] == "unread" for r in sent
        )
        assert all(m.marks.pages == 1 and not m.marks.stale and not m.changed for m in checks.by("timer"))


async def test_a_reconnect_resyncs_read_marks_beyond_the_first_page(
    live_server: LiveServer, member: CoderClient
) -> None:
    await seed_custom(member, 40)
    checks = Checks()
    app = make_app(live_server, interval=OFF, watch=True)
    async with app.run_test(size=SIZE, message_hook=checks) as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: app.link.state == "live", "the watch to go live")
        await wait_for(pilot, lambda: bool(checks.by("reconnect")), "the catch-up after going live")
        await pilot.press("G")
        await settle(pilot)
        assert len(app.state) == 40 and all(shown(app).values())
        # Mark-all sends no frame and nothing else checks here (no timer, no focus): only the catch-up
        # after the next reconnect can see it, and the catch-up of new rows alone refreshes one page.
        await member.mark_all_read()
        await pilot.pause()
        assert app.state.unread_count == 40
        live_server.restart()
        await wait_for(pilot, lambda: len(checks.by("reconnect")) >= 2, "the catch-up after the reconnect", limit=60)
        assert not any(shown(app).values()) and len(shown(app)) == 40
        assert app.query_one(InboxHeader).unread == 0 and agrees(app)


async def test_checks_resume_after_a_mark_all_from_the_inbox(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 3)
    checks = Checks()
    app = make_app(live_server, interval=OFF, watch=False)
    async with app.run_test(size=SIZE, message_hook=checks) as pilot:
        await settle(pilot)
        await pilot.press("A", "y")
        await settle(pilot)
        assert not app.state.mark_all_in_flight and app.state.unread_count == 0
        target = (await member.list_inbox()).notifications[0]
        await member.set_read(target.id, False)
        app.post_message(events.AppFocus())
        await wait_for(pilot, lambda: bool(checks.by("focus")), "the check on focus")
        assert shown(app)[target.title] and app.query_one(InboxHeader).unread == 1 and agrees(app)
