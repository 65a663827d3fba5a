"""The terminal title follows the unread count (issue 11): pushed at start, written only when its text
changes, popped at exit, all through the app's terminal-write path."""

from __future__ import annotations

from inbox_tui.app import InboxApp, fixed_clock
from inbox_tui.state import InboxState
from inbox_tui.terminal_title import POP_TITLE, PUSH_TITLE, title_sequence
from tests.tui.factories import NOW, event, make, sample_inbox
from tests.tui.helpers import inbox_screen

SIZE = (120, 30)


def app_with(writes: list[str], *, terminal_title: bool = True) -> InboxApp:
    return InboxApp(
        initial=InboxState.from_notifications(sample_inbox()),
        clock=fixed_clock(NOW),
        source="local",
        terminal_write=writes.append,
        terminal_title=terminal_title,
    )


async def test_the_title_follows_the_unread_count_and_is_restored_at_exit() -> None:
    writes: list[str] = []
    app = app_with(writes)
    unread = InboxState.from_notifications(sample_inbox()).unread_count
    assert unread > 1
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert writes == [PUSH_TITLE, title_sequence(f"({unread}) inbox · local")]
        await pilot.press("j", "k", "C", "C")  # nothing the title shows changes: nothing is written
        await pilot.pause()
        assert len(writes) == 2
        screen = inbox_screen(app)
        first_unread = next(i for i, nid in enumerate(screen.inbox.ids) if not app.state.by_id[nid].is_read)
        screen.inbox.highlighted = first_unread
        await pilot.press("r")
        await pilot.pause()
        assert writes[2:] == [title_sequence(f"({unread - 1}) inbox · local")]
        screen.queue_arrival(event(make(500), unread))
        await pilot.pause(0.2)
        assert writes[3:] == [title_sequence(f"({unread}) inbox · local")]
    assert writes[-1] == POP_TITLE and writes.count(PUSH_TITLE) == 1 and len(writes) == 5


async def test_the_switch_leaves_the_title_alone() -> None:
    writes: list[str] = []
    async with app_with(writes, terminal_title=False).run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await pilot.pause()
    assert writes == []
