"""Count prefixes on the main screen (fixed inbox, no server): 5j, 3k, 3G, 2ctrl+d, 3o, 3y, a lone digit,
esc; Y (copy the notification's id); r in the full-screen preview with rows selected. Loading beyond the
pages is in test_navigation_live.py."""

from __future__ import annotations

from inbox_tui.api.models import InboxAction
from inbox_tui.app import InboxApp, fixed_clock
from inbox_tui.count_prefix import CountPrefix
from inbox_tui.screens.inbox import InboxScreen
from inbox_tui.screens.preview import PreviewScreen
from inbox_tui.state import InboxState
from inbox_tui.widgets.header import Link
from tests.tui.factories import NOW, make
from tests.tui.helpers import wait_for

LINKS = (
    InboxAction("One", "https://example.com/1"),
    InboxAction("Two", "https://example.com/2"),
    InboxAction("Three", "https://example.com/3"),
)


def app_with(count: int = 60) -> InboxApp:
    """`count` notifications, newest first (row 1 is the highest number); the newest has three actions."""
    items = [make(n) for n in range(count - 1)] + [make(count - 1, actions=LINKS)]
    return InboxApp(initial=InboxState.from_notifications(items), clock=fixed_clock(NOW), link=Link("live"))


def screen_of(app: InboxApp) -> InboxScreen:
    screen = app.inbox_screen
    assert screen is not None
    return screen


def row(app: InboxApp) -> int | None:
    """The highlighted row, 1-based as the position indicator shows it."""
    highlighted = screen_of(app).inbox.highlighted
    return None if highlighted is None else highlighted + 1


def test_count_prefix_digits() -> None:
    count = CountPrefix()
    assert not count.accepts("0")  # a leading 0 is not a count
    assert count.accepts("3") and not count.accepts("j")
    count.push("3")
    assert count.accepts("0")
    count.push("0")
    assert count.digits == "30" and count.take() == 30 and count.take() is None


async def test_counts_move_the_highlight() -> None:
    app = app_with()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = screen_of(app)
        await pilot.press("5", "j")
        assert row(app) == 6
        await pilot.press("3", "k")
        assert row(app) == 3
        await pilot.press("4", "2", "G")
        assert row(app) == 42
        await wait_for(pilot, lambda: screen.list_status.position == "42/60", "the position once the row rests")
        await pilot.press("9", "9", "G")  # past the end: the last row
        assert row(app) == 60
        await pilot.press("g", "2", "ctrl+d")
        half = max(1, screen.inbox.scrollable_content_region.height // (2 * screen.inbox.row_height))
        assert row(app) == 1 + 2 * half
        await pilot.press("1", "0", "0", "k")  # stops at the top, no wrap
        assert row(app) == 1


async def test_the_count_shows_while_typed_and_esc_drops_it() -> None:
    app = app_with()
    async with app.run_test(size=(100, 30)) as pilot:
        status = screen_of(app).list_status
        await pilot.press("1", "2")
        assert status.pending == "12" and status.left_text.startswith("12")
        await pilot.press("j")
        assert row(app) == 13 and status.pending == ""
        await pilot.press("3", "escape")
        assert status.pending == ""
        await pilot.press("j")  # the 3 was dropped: one row
        assert row(app) == 14


async def test_counted_o_and_y_reach_link_n_and_Y_copies_the_id() -> None:
    app = app_with()
    async with app.run_test(size=(100, 30)) as pilot:
        first = screen_of(app).inbox.notification
        assert first is not None
        await pilot.press("3", "y")
        assert app.clipboard == "https://example.com/3"
        assert not app.state.by_id[first.id].is_read  # copying does not mark it read
        await pilot.press("2", "o")  # no browser in tests: opening copies the link
        assert app.clipboard == "https://example.com/2"
        assert app.state.by_id[first.id].is_read
        await pilot.press("Y")
        assert app.clipboard == first.id
        await pilot.press("4", "y")
        assert any("has 3 actions." in n.message for n in app._notifications)


async def test_a_lone_digit_still_opens_link_n() -> None:
    app = app_with()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("3")
        await wait_for(pilot, lambda: app.clipboard == "https://example.com/3", "link 3 opened after the pause")
        assert row(app) == 1 and screen_of(app).list_status.pending == ""


async def test_r_in_the_full_screen_preview_acts_on_the_notification_shown_not_the_selection() -> None:
    app = app_with(5)
    async with app.run_test(size=(60, 30)) as pilot:
        inbox = screen_of(app).inbox
        first, second = inbox.ids[:2]
        await pilot.press("v", "enter")  # row 1 selected, row 2 shown full-screen
        assert isinstance(app.screen, PreviewScreen)
        await pilot.press("r")
        assert app.state.by_id[second].is_read and not app.state.by_id[first].is_read
        assert inbox.selected == {first}
