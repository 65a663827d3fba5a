"""Side panes (80x24, 60x20, 40x15): what the screens other than the inbox's list show and do there."""

from __future__ import annotations

import pytest
from textual.containers import VerticalScroll

from inbox_tui.screens.help import HelpScreen
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
        await pilot.press("j", "j")
        await pilot.pause()
        assert table.scroll_y == 2
        await pilot.press("k")
        await pilot.pause()
        assert table.scroll_y == 1
        await pilot.press("G")
        await pilot.pause()
        assert table.scroll_y == table.max_scroll_y
        await pilot.press("g")
        await pilot.pause()
        assert table.scroll_y == 0
        await pilot.press("pagedown")
        await pilot.pause()
        assert table.scroll_y > 2
        await pilot.press("pageup")
        await pilot.pause()
        assert table.scroll_y == 0
