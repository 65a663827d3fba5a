"""Side panes (80x24, 60x20, 40x15): what the screens other than the inbox's list show and do there."""

from __future__ import annotations

import pytest

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
