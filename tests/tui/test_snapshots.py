"""How the inbox looks: fixed notifications, a frozen clock, no server (so every run draws the same)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from textual.pilot import Pilot

from inbox_tui.api.client import CoderClient
from inbox_tui.app import InboxApp, fixed_clock
from inbox_tui.screens.inbox import POSITION_DELAY
from inbox_tui.state import InboxState
from inbox_tui.widgets.header import Link
from tests.live_server import LiveServer
from tests.tui.factories import NOW, many_templates, sample_inbox
from tests.tui.screen_host import ScreenHost, wait_for
from tests.tui.screen_host import settle as host_settle

SnapCompare = Callable[..., bool]


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Absolute times in the preview are local times: pin the zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


LIVE = Link("live")


def inbox(link: Link = LIVE, items: bool = True) -> InboxApp:
    """The sample inbox (or an empty one) with the clock stopped at NOW."""
    state = InboxState.from_notifications(sample_inbox() if items else [])
    return InboxApp(initial=state, clock=fixed_clock(NOW), link=link)


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(POSITION_DELAY + 0.1)  # the position under the list follows a resting highlight


def test_populated_inbox(snap_compare: SnapCompare) -> None:
    assert snap_compare(inbox(), terminal_size=(120, 30), run_before=settle)


def test_empty_inbox(snap_compare: SnapCompare) -> None:
    assert snap_compare(inbox(items=False), terminal_size=(120, 30), run_before=settle)


def test_sixty_column_pane(snap_compare: SnapCompare) -> None:
    assert snap_compare(inbox(), terminal_size=(60, 30), run_before=settle)


def test_preview_open(snap_compare: SnapCompare) -> None:
    async def open_preview(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("j", "enter")
        await settle(pilot)

    assert snap_compare(inbox(), terminal_size=(120, 30), run_before=open_preview)


def test_offline(snap_compare: SnapCompare) -> None:
    app = inbox(Link("offline", detail="connection refused (is the server running?)"))
    assert snap_compare(app, terminal_size=(120, 30), run_before=settle)


def test_compact_rows(snap_compare: SnapCompare) -> None:
    async def compact(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("j", "j", "C")
        await settle(pilot)

    assert snap_compare(inbox(), terminal_size=(120, 30), run_before=compact)


def test_preview_at_the_bottom(snap_compare: SnapCompare) -> None:
    async def preview_below(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("j", "enter", "p")
        await settle(pilot)

    assert snap_compare(inbox(), terminal_size=(120, 30), run_before=preview_below)


# ----- the other screens, at side-pane sizes (80x24, 60x20; preferences at 40x15 too) ---------------


async def preferences_edited(pilot: Pilot[Any]) -> None:
    """Preferences loaded, one switch flipped (an unsaved note), the first switch focused."""
    from inbox_tui.screens.preferences import PreferencesScreen

    await host_settle(pilot)
    prefs = pilot.app.screen
    assert isinstance(prefs, PreferencesScreen)
    await wait_for(pilot, lambda: prefs.model is not None, "preferences to load")
    await host_settle(pilot)
    switches = list(prefs.query("TemplateSwitch"))
    switches[0].focus()
    await pilot.press("space")
    await host_settle(pilot)


@pytest.mark.parametrize("size", [(80, 24), (60, 20), (40, 15)], ids=["80x24", "60x20", "40x15"])
def test_preferences_in_a_side_pane(snap_compare: SnapCompare, live_server: LiveServer, size: tuple[int, int]) -> None:
    from inbox_tui.screens.preferences import PreferencesScreen

    app = ScreenHost(live_server.url, live_server.owner_token, lambda client: PreferencesScreen(client))
    assert snap_compare(app, terminal_size=size, run_before=preferences_edited)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_help_in_a_side_pane(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def help_scrolled(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("question_mark", "j", "j", "j")
        await settle(pilot)

    assert snap_compare(inbox(), terminal_size=size, run_before=help_scrolled)


@pytest.mark.parametrize("size", [(60, 20), (40, 15)], ids=["60x20", "40x15"])
def test_full_screen_preview(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """Narrow panes show the preview full-screen (at 80 columns it sits beside the list)."""

    async def preview(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(inbox(), terminal_size=size, run_before=preview)


@pytest.mark.parametrize("size", [(80, 24), (60, 20), (60, 15)], ids=["80x24", "60x20", "60x15"])
def test_filters_dialog(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """The dialog with its footer; in the short pane it has scrolled to the focused Apply button."""
    from inbox_tui.screens.filters import FilterScreen, known_targets

    async def filters(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        app = pilot.app
        assert isinstance(app, InboxApp)
        state = app.state
        targets = known_targets([state.by_id[i] for i in state.ids])
        app.push_screen(FilterScreen(state.filters, load_templates=None, templates=many_templates(), targets=targets))
        await settle(pilot)
        app.screen.query_one("#filter-apply").focus()
        await settle(pilot)

    assert snap_compare(inbox(), terminal_size=size, run_before=filters)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_compose_in_a_side_pane(snap_compare: SnapCompare, live_server: LiveServer, size: tuple[int, int]) -> None:
    """The form with the dedupe note and the paused-delivery warning, the title still being typed."""
    from inbox_tui.screens.compose import ComposeScreen

    async def pause() -> None:
        async with CoderClient(live_server.url, live_server.owner_token) as owner:
            await owner.set_paused(True)

    asyncio.run(pause())

    async def typing(pilot: Pilot[Any]) -> None:
        await host_settle(pilot)
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ComposeScreen), "the form")
        await host_settle(pilot)
        await pilot.press("D", "e", "p", "l", "o", "y")
        await host_settle(pilot)

    app = ScreenHost(live_server.url, live_server.member_token, lambda client: ComposeScreen(client))
    assert snap_compare(app, terminal_size=size, run_before=typing)


@pytest.mark.parametrize("role", ["owner", "member"])
@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_admin_in_a_side_pane(
    snap_compare: SnapCompare, live_server: LiveServer, size: tuple[int, int], role: str
) -> None:
    """The owner's screen with one template method picked and not saved; the member's without owner keys."""
    from inbox_tui.screens.admin import AdminScreen, MethodSelect

    async def edited(pilot: Pilot[Any]) -> None:
        await host_settle(pilot)
        await wait_for(pilot, lambda: bool(pilot.app.screen.query(MethodSelect)), "the admin screen to load")
        await host_settle(pilot)
        if role == "owner":
            pilot.app.screen.query(MethodSelect).first().value = "webhook"
            await host_settle(pilot)

    token = live_server.owner_token if role == "owner" else live_server.member_token
    app = ScreenHost(live_server.url, token, lambda client: AdminScreen(client))
    assert snap_compare(app, terminal_size=size, run_before=edited)


# ----- the main inbox in side panes (issue 11) ------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (60, 20), (40, 15)], ids=["80x24", "60x20", "40x15"])
def test_main_inbox_in_a_side_pane(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    assert snap_compare(inbox(), terminal_size=size, run_before=settle)


def test_main_inbox_with_the_preview_at_80x24(snap_compare: SnapCompare) -> None:
    """80 columns is the narrowest pane with the preview beside the list."""

    async def open_preview(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("j", "enter")
        await settle(pilot)

    assert snap_compare(inbox(), terminal_size=(80, 24), run_before=open_preview)


def test_paused_delivery_in_the_header_at_60x20(snap_compare: SnapCompare) -> None:
    async def paused(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        from inbox_tui.screens.inbox import InboxScreen

        screen = pilot.app.screen
        assert isinstance(screen, InboxScreen)
        screen.show_paused(True)
        await settle(pilot)

    assert snap_compare(inbox(), terminal_size=(60, 20), run_before=paused)


# ----- the mark-all question and selected rows in side panes (issue 11) ------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_mark_all_read_question_in_a_side_pane(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def ask(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)

    assert snap_compare(inbox(), terminal_size=size, run_before=ask)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_selected_rows_in_a_side_pane(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def select(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("v", "j", "v")
        await settle(pilot)

    assert snap_compare(inbox(), terminal_size=size, run_before=select)
