"""Side panes (80x24, 60x20, 40x15): what the screens other than the inbox's list show and do there."""

from __future__ import annotations

from typing import Any

import pytest
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widget import Widget

from inbox_tui.api.client import CoderClient
from inbox_tui.api.models import InboxAction, InboxNotification
from inbox_tui.app import InboxApp, fixed_clock
from inbox_tui.screens.filters import FilterScreen, known_targets
from inbox_tui.screens.help import HelpScreen
from inbox_tui.screens.preview import PreviewScreen
from inbox_tui.state import InboxState
from inbox_tui.widgets.header import Link
from tests.live_server import LiveServer
from tests.tui.factories import NOW, make, many_templates, sample_inbox
from tests.tui.helpers import seed_custom
from tests.tui.helpers import settle as live_settle
from tests.tui.screen_text import screen_lines
from tests.tui.test_snapshots import inbox, settle


@pytest.mark.parametrize("size", [(80, 24), (60, 20), (40, 15)], ids=["80x24", "60x20", "40x15"])
async def test_the_footer_ends_with_the_palette_key(size: tuple[int, int]) -> None:
    """No stray column after `^p Commands` (it showed a letter of a key behind it: `^p Commandsa`)."""
    app = inbox()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        footer = screen_lines(app)[-1]
        assert footer.rstrip().endswith("Commands"), footer


async def scrolled(pilot: Pilot[Any], widget: Widget, *keys: str) -> float:
    """Where `widget` is scrolled to after `keys`."""
    await pilot.press(*keys)
    await pilot.pause()
    return widget.scroll_y


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
async def test_help_scrolls_with_the_list_keys(size: tuple[int, int]) -> None:
    """j/k, G/g and page down/up scroll the key table (only the arrows did)."""
    app = inbox()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(VerticalScroll)
        assert table.max_scroll_y > 0
        assert await scrolled(pilot, table, "j", "j") == 2
        assert await scrolled(pilot, table, "k") == 1
        assert await scrolled(pilot, table, "G") == table.max_scroll_y
        assert await scrolled(pilot, table, "g") == 0
        assert await scrolled(pilot, table, "pagedown") > 2
        assert await scrolled(pilot, table, "pageup") == 0


# ----- the full-screen preview (a pane too narrow for the preview beside the list) ------------------


def narrow_inbox(notifications: list[InboxNotification] | None = None) -> InboxApp:
    state = InboxState.from_notifications(notifications if notifications is not None else sample_inbox())
    return InboxApp(initial=state, clock=fixed_clock(NOW), link=Link("live"))


def previewed(app: InboxApp) -> PreviewScreen:
    assert isinstance(app.screen, PreviewScreen), app.screen
    return app.screen


async def open_preview(pilot: Pilot[Any], *keys: str) -> PreviewScreen:
    await settle(pilot)
    await pilot.press(*keys, "enter")
    await pilot.pause()
    assert isinstance(pilot.app, InboxApp)
    return previewed(pilot.app)


@pytest.mark.parametrize("size", [(60, 20), (40, 15)], ids=["60x20", "40x15"])
async def test_the_preview_takes_the_inbox_keys(size: tuple[int, int]) -> None:
    """r, n/N, y and o act on the notification shown (they did nothing), and the preview follows n/N."""
    sample = sample_inbox()
    newest, low_disk, account = sample[0], sample[1], sample[2]
    app = narrow_inbox()
    async with app.run_test(size=size) as pilot:
        preview = await open_preview(pilot)
        assert preview.notification.id == newest.id and not newest.is_read
        await pilot.press("r")
        await pilot.pause()
        assert preview.notification.is_read and app.state.by_id[newest.id].is_read
        assert "· read" in str(preview.query_one("#preview-meta").render())
        await pilot.press("n")
        await pilot.pause()
        assert preview.notification.id == low_disk.id
        await pilot.press("n")
        await pilot.pause()
        assert preview.notification.id == account.id
        await pilot.press("N")
        await pilot.pause()
        assert preview.notification.id == low_disk.id
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == low_disk.actions[0].url
        app.copy_to_clipboard("")
        await pilot.press("o")  # headless: no browser, so the link is copied (and the row marked read)
        await pilot.pause()
        assert app.clipboard == low_disk.actions[0].url
        assert app.state.by_id[low_disk.id].is_read and preview.notification.is_read
        footer = screen_lines(app)[-1]
        assert "Read/unread" in footer and "Action 1" not in footer, footer


async def test_the_preview_footer_offers_no_action_when_there_is_none() -> None:
    """It said `1 Action 1` for a notification without actions."""
    app = narrow_inbox([make(1, title="Nothing to open", actions=())])
    async with app.run_test(size=(60, 20)) as pilot:
        await open_preview(pilot)
        footer = screen_lines(app)[-1]
        assert "Action" not in footer and "Open" not in footer and "Back" in footer, footer


async def test_j_and_k_scroll_the_preview() -> None:
    long_body = "\n\n".join(f"Paragraph {i} of a long build log." for i in range(40))
    app = narrow_inbox([make(1, title="Long", content=long_body, actions=(InboxAction("Log", "https://x.test/1"),))])
    async with app.run_test(size=(60, 20)) as pilot:
        preview = await open_preview(pilot)
        view = preview.view
        assert view.max_scroll_y > 3
        assert await scrolled(pilot, view, "j", "j", "j") == 3
        assert await scrolled(pilot, view, "k") == 2
        assert await scrolled(pilot, view, "G") == view.max_scroll_y
        assert await scrolled(pilot, view, "g") == 0
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, PreviewScreen)


# ----- the filters dialog ---------------------------------------------------------------------------


def filter_screen(app: InboxApp) -> FilterScreen:
    state = app.state
    return FilterScreen(
        state.filters,
        load_templates=None,
        templates=many_templates(),
        targets=known_targets([state.by_id[i] for i in state.ids]),
    )


@pytest.mark.parametrize("size", [(60, 15), (60, 20), (80, 24)], ids=["60x15", "60x20", "80x24"])
async def test_the_filters_dialog_scrolls_to_the_focused_field(size: tuple[int, int]) -> None:
    """Tab reaches the Targets field and Clear/Cancel/Apply, and each comes into view (they stayed off-screen)."""
    app = narrow_inbox()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        app.push_screen(filter_screen(app))
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, FilterScreen)
        seen: dict[str, bool] = {}
        for _ in range(12):
            await pilot.press("tab")
            await pilot.pause()
            focused = dialog.focused
            assert focused is not None
            if focused.id in ("filter-target-input", "filter-clear", "filter-cancel", "filter-apply"):
                lines = screen_lines(app)
                label = {"filter-target-input": "other target UUIDs"}.get(focused.id, str(focused.id)[7:].title())
                seen[focused.id] = any(label in line for line in lines[:-1])
        assert seen == dict.fromkeys(("filter-target-input", "filter-clear", "filter-cancel", "filter-apply"), True)
        footer = screen_lines(app)[-1]
        assert "esc" in footer and "Cancel" in footer and "^s" in footer and "Apply" in footer, footer


async def test_r_in_the_preview_keeps_showing_that_notification_under_unread_only(live_server: LiveServer) -> None:
    """Against a server, in the unread-only view: the preview stays on the notification it read."""
    async with CoderClient(live_server.url, live_server.member_token) as member:
        await seed_custom(member, 3)
    app = InboxApp(CoderClient(live_server.url, live_server.member_token), owns_client=True, watch=False)
    async with app.run_test(size=(60, 20)) as pilot:
        await live_settle(pilot)
        await pilot.press("u")
        await live_settle(pilot)
        screen = app.inbox_screen
        assert screen is not None and app.state.filters.read_status == "unread"
        screen.inbox.focus()  # `u` takes the focus from the list (another item of issue 11)
        screen.inbox.highlighted = 0
        preview = await open_preview(pilot)
        shown = preview.notification.id
        await pilot.press("r")
        await live_settle(pilot)
        assert preview.notification.id == shown and preview.notification.is_read
        assert app.state.by_id[shown].is_read
    async with CoderClient(live_server.url, live_server.member_token) as member:
        assert (await member.list_inbox()).unread_count == 2  # the server has it read too
