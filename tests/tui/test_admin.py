"""The admin screen against a real inbox-server: pause/resume, test notification, template methods, members."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Static, Switch

from inbox_tui.api.client import CoderClient
from inbox_tui.api.models import TEST_TEMPLATE_ID, User
from inbox_tui.screens.admin import PAUSED_TEXT, RUNNING_TEXT, TEST_FAILED, TEST_SENT, AdminScreen, MethodSelect
from inbox_tui.screens.confirm import ConfirmScreen, UnsavedChangesScreen
from inbox_tui.widgets.status_line import StatusLine
from tests.live_server import LiveServer
from tests.tui.screen_host import WAIT, ScreenHost, settle, wait_for
from tests.tui.screen_text import screen_lines

SIZE = (120, 50)
WORKSPACE_DELETED = "f517da0b-cdc9-410f-ab89-a86107c420ed"
SnapCompare = Callable[..., bool]


@pytest.fixture
async def owner(live_server: LiveServer) -> AsyncIterator[CoderClient]:
    async with CoderClient(live_server.url, live_server.owner_token) as client:
        yield client


@pytest.fixture
async def member(live_server: LiveServer) -> AsyncIterator[CoderClient]:
    async with CoderClient(live_server.url, live_server.member_token) as client:
        yield client


def host(server: LiveServer, token: str, user: User | None = None) -> ScreenHost:
    return ScreenHost(server.url, token, lambda client: AdminScreen(client, user))


def screen(app: ScreenHost) -> AdminScreen:
    assert isinstance(app.screen_under_test, AdminScreen)
    return app.screen_under_test


def status(app: ScreenHost, name: str) -> StatusLine:
    return screen(app).query_one(f"#{name}", StatusLine)


def text_of(app: ScreenHost, selector: str) -> str:
    return str(screen(app).query_one(selector, Static).render())


async def loaded(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    assert isinstance(pilot.app, ScreenHost)
    app = pilot.app
    await wait_for(pilot, lambda: bool(screen(app).query(MethodSelect)), "the admin screen to load")
    await settle(pilot)


async def has_test_notification(client: CoderClient) -> bool:
    return any(n.template_id == TEST_TEMPLATE_ID for n in (await client.list_inbox()).notifications)


async def wait_for_test_notification(client: CoderClient) -> None:
    deadline = time.monotonic() + WAIT
    while not await has_test_notification(client):
        if time.monotonic() > deadline:
            raise AssertionError("the test notification never arrived")
        await asyncio.sleep(0.05)


async def test_owner_pauses_and_resumes(live_server: LiveServer, owner: CoderClient) -> None:
    app = host(live_server, live_server.owner_token)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        paused = screen(app).query_one("#admin-paused", Switch)
        assert not paused.disabled and paused.value is False
        assert text_of(app, "#admin-paused-label") == RUNNING_TEXT
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)  # it changes the whole deployment: asked first
        await pilot.press("y")
        await settle(pilot)
        assert (await owner.settings()).notifier_paused is True
        assert paused.value is True and text_of(app, "#admin-paused-label") == PAUSED_TEXT
        assert status(app, "paused-status").text == "Notifications are now paused."
        paused.focus()
        await pilot.press("space")  # the switch itself works too, and asks too
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert (await owner.settings()).notifier_paused is False
        assert status(app, "paused-status").text == "Notifications are now resumed."


async def test_resuming_when_already_running_is_fine(live_server: LiveServer, owner: CoderClient) -> None:
    await owner.set_paused(False)  # stored explicitly, so the next PUT of false is a 304
    app = host(live_server, live_server.owner_token)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        screen(app).set_paused(False)
        await settle(pilot)
        assert status(app, "paused-status").kind == "success"
    assert (await owner.settings()).notifier_paused is False


async def test_owner_sends_a_test_notification(live_server: LiveServer, owner: CoderClient) -> None:
    app = host(live_server, live_server.owner_token)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert status(app, "test-status").text == TEST_SENT
        assert any(n.message == TEST_SENT for n in app._notifications)
    await wait_for_test_notification(owner)


async def test_owner_sets_a_template_method(live_server: LiveServer, owner: CoderClient) -> None:
    app = host(live_server, live_server.owner_token)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        select = screen(app).query_one(f"#m-{WORKSPACE_DELETED}", MethodSelect)
        assert select.value == "" and not select.disabled
        select.focus()
        await pilot.pause()
        await pilot.press("enter", "down", "down", "enter")  # default (smtp) -> smtp -> webhook
        await settle(pilot)
        assert select.value == "webhook"
        assert status(app, f"ms-{WORKSPACE_DELETED}").text == "● unsaved"  # saved with ctrl+s, as preferences
        assert {t.id: t.method for t in await owner.templates()}[WORKSPACE_DELETED] == ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert status(app, f"ms-{WORKSPACE_DELETED}").text == "Saved."
        methods = {t.id: t.method for t in await owner.templates()}
        assert methods[WORKSPACE_DELETED] == "webhook"
        select.value = ""  # back to the deployment default
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert {t.id: t.method for t in await owner.templates()}[WORKSPACE_DELETED] == ""


async def test_a_refused_method_change_is_shown_beside_it(live_server: LiveServer) -> None:
    app = host(live_server, live_server.owner_token)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        select = screen(app).query_one(f"#m-{WORKSPACE_DELETED}", MethodSelect)
        live_server.stop()
        select.value = "smtp"
        await pilot.press("ctrl+s")
        await settle(pilot)
        line = status(app, f"ms-{WORKSPACE_DELETED}")
        assert line.kind == "error" and "connection refused" in line.text
        assert select.value == "smtp" and screen(app).has_unsaved_changes  # the choice is kept for a retry
        assert screen(app).can_admin  # not a 403: the screen stays usable
        live_server.start()


async def test_member_sees_a_read_only_screen(live_server: LiveServer, owner: CoderClient, member: CoderClient) -> None:
    app = host(live_server, live_server.member_token)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        assert not screen(app).can_admin
        assert screen(app).query_one("#admin-paused", Switch).disabled
        assert screen(app).query_one("#admin-test", Button).disabled
        assert all(select.disabled for select in screen(app).query(MethodSelect))
        assert text_of(app, "#admin-paused-label") == RUNNING_TEXT
        assert "Available: smtp, webhook" in text_of(app, "#admin-methods")
        assert "read-only" in status(app, "admin-role").text
        await pilot.press("p", "t")  # greyed out: nothing is sent
        await settle(pilot)
    assert (await owner.settings()).notifier_paused is False
    assert not await has_test_notification(member)


async def test_a_403_is_shown_with_coders_message(
    live_server: LiveServer, owner: CoderClient, member: CoderClient
) -> None:
    # The app believes the user is an owner (a role since revoked): the server refuses, the screen says so.
    stale = replace(await member.me(), roles=("owner",))
    app = host(live_server, live_server.member_token, stale)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        assert screen(app).can_admin
        await pilot.press("t")
        await settle(pilot)
        line = status(app, "test-status")
        assert line.kind == "error" and line.text.startswith(TEST_FAILED) and "Forbidden." in line.text
        assert "refused" in status(app, "admin-role").text
        assert not screen(app).can_admin
        assert screen(app).query_one("#admin-test", Button).disabled
        assert screen(app).query_one("#admin-paused", Switch).disabled
    assert (await owner.settings()).notifier_paused is False


async def test_a_403_on_pause_puts_the_switch_back(
    live_server: LiveServer, owner: CoderClient, member: CoderClient
) -> None:
    stale = replace(await member.me(), roles=("owner",))
    app = host(live_server, live_server.member_token, stale)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("p", "y")
        await settle(pilot)
        assert screen(app).query_one("#admin-paused", Switch).value is False
        assert "Forbidden." in status(app, "paused-status").text
    assert (await owner.settings()).notifier_paused is False


# ----- looks ----------------------------------------------------------------------------------------


def test_snapshot_owner_admin(snap_compare: SnapCompare, live_server: LiveServer) -> None:
    assert snap_compare(host(live_server, live_server.owner_token), terminal_size=(110, 36), run_before=loaded)


def test_snapshot_member_admin(snap_compare: SnapCompare, live_server: LiveServer) -> None:
    assert snap_compare(host(live_server, live_server.member_token), terminal_size=(110, 36), run_before=loaded)


async def test_opened_by_name_from_the_inbox_app(live_server: LiveServer) -> None:
    from inbox_tui.app import InboxApp

    app = InboxApp(CoderClient(live_server.url, live_server.owner_token), owns_client=True, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.action_open_screen("admin")
        await wait_for(pilot, lambda: isinstance(app.screen, AdminScreen), "the admin screen")
        admin = app.screen
        assert isinstance(admin, AdminScreen)
        await wait_for(pilot, lambda: admin.user is not None and admin.can_admin, "the user to load")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, AdminScreen)


# ----- side panes (80x24, 60x20): ask before pausing, one save model, members see what they can do ----


SIDE_PANES = pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])


@SIDE_PANES
async def test_pausing_asks_first_and_no_changes_nothing(
    live_server: LiveServer, owner: CoderClient, size: tuple[int, int]
) -> None:
    app = host(live_server, live_server.owner_token)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "whole deployment" in app.screen.question
        await pilot.press("n")
        await settle(pilot)
        assert screen(app).query_one("#admin-paused", Switch).value is False
        assert text_of(app, "#admin-paused-label") == RUNNING_TEXT
    assert (await owner.settings()).notifier_paused is False


@SIDE_PANES
async def test_leaving_with_an_unsaved_method_asks(
    live_server: LiveServer, owner: CoderClient, size: tuple[int, int]
) -> None:
    app = host(live_server, live_server.owner_token)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        select = screen(app).query_one(f"#m-{WORKSPACE_DELETED}", MethodSelect)
        select.value = "webhook"
        await pilot.pause()
        assert "unsaved" in status(app, "admin-role").text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, UnsavedChangesScreen)
        await pilot.press("escape")  # stay
        await pilot.pause()
        assert app.screen is screen(app)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("s")  # save, then leave
        await wait_for(pilot, lambda: not screen(app).is_attached, "the screen to close after saving")
    assert {t.id: t.method for t in await owner.templates()}[WORKSPACE_DELETED] == "webhook"


@SIDE_PANES
async def test_members_are_offered_only_what_they_can_do(live_server: LiveServer, size: tuple[int, int]) -> None:
    """No `p Pause/resume delivery`, `t Send a test notification` or ctrl+s for a member; an owner has them."""
    member_app = host(live_server, live_server.member_token)
    async with member_app.run_test(size=size) as pilot:
        await loaded(pilot)
        footer = screen_lines(member_app)[-1]
        assert "Pause" not in footer and "test" not in footer and "Save" not in footer, footer
        assert "Close" in footer
        assert not any(part.display for part in screen(member_app).query(".owner-only"))  # no test section
        assert not any("Send test notification" in line for line in screen_lines(member_app))
    owner_app = host(live_server, live_server.owner_token)
    async with owner_app.run_test(size=size) as pilot:
        await loaded(pilot)
        footer = screen_lines(owner_app)[-1]
        assert "Save" in footer and "Pause" in footer, footer
