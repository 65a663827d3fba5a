"""The inbox screen's two layout containers are not drawn (what they hold covers them; issue 11: ~1.2 ms of
each full repaint), while everything they hold is drawn and reachable as before."""

from __future__ import annotations

from textual.widget import Widget

from inbox_tui.app import InboxApp, fixed_clock
from inbox_tui.state import InboxState
from inbox_tui.widgets.header import Link
from tests.tui.factories import NOW, sample_inbox
from tests.tui.helpers import inbox_screen

SIZE = (120, 30)


def sample_app() -> InboxApp:
    return InboxApp(initial=InboxState.from_notifications(sample_inbox()), clock=fixed_clock(NOW), link=Link("live"))


def drawn(app: InboxApp) -> set[str]:
    """Ids of the widgets the screen draws."""
    return {widget.id for widget in app.screen._compositor.visible_widgets if isinstance(widget, Widget) and widget.id}


async def test_containers_are_not_drawn_their_contents_are() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = inbox_screen(app)
        assert {"header", "inbox"} <= drawn(app)
        assert not {"body", "list-pane"} & drawn(app)
        assert screen.inbox.visible and screen.inbox.focusable
        await pilot.press("enter")  # the preview beside the list
        await pilot.pause()
        assert screen.preview_open and "preview" in drawn(app)
        await pilot.press("slash")  # the search field mounted into the list pane
        await pilot.pause()
        assert "search" in drawn(app) and screen.focused is not None and screen.focused.id == "search"
        assert screen.inbox in screen.focus_chain


async def test_a_click_reaches_a_row_through_the_undrawn_containers() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        inbox = inbox_screen(app).inbox
        assert inbox.highlighted == 0
        await pilot.click("#inbox", offset=(5, 4))  # rows are two lines: the third row
        await pilot.pause()
        assert inbox.highlighted == 2
