"""Inside tmux with focus-events off, the first arrival says once why alerts cannot fire (issue 11)."""

from __future__ import annotations

import pytest
from textual import events
from textual.pilot import Pilot

from inbox_tui.app import InboxApp, fixed_clock
from inbox_tui.state import InboxState
from inbox_tui.tmux import FOCUS_EVENTS_HINT
from tests.tui.factories import NOW, event, make, sample_inbox
from tests.tui.helpers import inbox_screen, wait_for

SIZE = (120, 30)


def hints(app: InboxApp) -> int:
    return sum(n.message == FOCUS_EVENTS_HINT for n in app._notifications)


async def arrive(pilot: Pilot[None], app: InboxApp, number: int) -> None:
    """One new unread notification from the watch, shown (and told to the app) a moment later."""
    before = len(app.state)
    inbox_screen(app).queue_arrival(event(make(number), app.state.unread_count + 1))
    await wait_for(pilot, lambda: len(app.state) == before + 1, "the arrival")
    await pilot.pause()


def app_() -> InboxApp:
    return InboxApp(initial=InboxState.from_notifications(sample_inbox()), clock=fixed_clock(NOW))


async def test_inside_tmux_without_focus_events_the_first_arrival_says_so_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TMUX", "/tmp/tmux-1000/default,1234,0")
    app = app_()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert hints(app) == 0  # nothing before an arrival
        await arrive(pilot, app, 500)
        assert hints(app) == 1
        await arrive(pilot, app, 501)
        assert hints(app) == 1


async def test_no_hint_once_a_focus_change_arrived(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMUX", "/tmp/tmux-1000/default,1234,0")
    app = app_()
    async with app.run_test(size=SIZE) as pilot:
        app.post_message(events.AppBlur())
        app.post_message(events.AppFocus())
        await pilot.pause()
        await arrive(pilot, app, 500)
        assert hints(app) == 0


async def test_no_hint_outside_tmux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMUX", raising=False)
    app = app_()
    async with app.run_test(size=SIZE) as pilot:
        await arrive(pilot, app, 500)
        assert hints(app) == 0
