"""The preview's relative time ("2 minutes ago") moves on with the list's ("3m"), on the same tick (issue 11)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from textual.widgets import Static

from inbox_tui.app import InboxApp
from inbox_tui.screens.preview import PreviewScreen
from inbox_tui.state import InboxState
from tests.tui.factories import NOW, sample_inbox
from tests.tui.helpers import inbox_screen


def meta(app: InboxApp) -> str:
    return str(app.screen.query_one("#preview-meta", Static).render())


@pytest.mark.parametrize("size", [(120, 30), (60, 20)])  # beside the list, full-screen
async def test_the_preview_time_moves_with_the_list(size: tuple[int, int]) -> None:
    now = [NOW]

    def clock() -> datetime:
        return now[0]

    app = InboxApp(initial=InboxState.from_notifications(sample_inbox()), clock=clock)
    async with app.run_test(size=size) as pilot:
        screen = inbox_screen(app)
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert "2 minutes ago" in meta(app)
        now[0] = NOW + timedelta(minutes=3)
        if size[0] < 80:
            assert isinstance(app.screen, PreviewScreen)
            app.screen._tick()
        else:
            screen._tick()  # the half-minute tick of the list's relative times
        await pilot.pause()
        assert "5 minutes ago" in meta(app)
