"""The header line: paused delivery beside the link, and a failure's detail without doubled brackets."""

from __future__ import annotations

import pytest

from inbox_tui.app import InboxApp, fixed_clock
from inbox_tui.state import InboxState
from inbox_tui.widgets.header import InboxHeader, Link
from tests.tui.factories import NOW, sample_inbox


def app_with(link: Link) -> InboxApp:
    return InboxApp(initial=InboxState.from_notifications(sample_inbox()), clock=fixed_clock(NOW), link=link)


@pytest.mark.parametrize(("width", "expected"), [(120, "● live · paused"), (45, "● paused")])
async def test_paused_delivery_shows_beside_live(width: int, expected: str) -> None:
    app = app_with(Link("live"))
    async with app.run_test(size=(width, 24)) as pilot:
        header = app.screen.query_one(InboxHeader)
        assert "paused" not in header.render().plain
        header.paused = True
        await pilot.pause()
        assert header.render().plain.rstrip().endswith(expected)


async def test_paused_is_not_claimed_while_offline() -> None:
    app = app_with(Link("offline"))
    async with app.run_test(size=(120, 24)) as pilot:
        header = app.screen.query_one(InboxHeader)
        header.paused = True
        await pilot.pause()
        assert "paused" not in header.render().plain


async def test_a_detail_with_brackets_is_not_bracketed_again() -> None:
    app = app_with(Link("offline", detail="connection refused (is the server running?)"))
    async with app.run_test(size=(120, 24)):
        text = app.screen.query_one(InboxHeader).render().plain
        assert "connection refused (is the server running?) · ○ offline" in text
        assert "((" not in text and "))" not in text
