"""The main screen with a fixed inbox (no server): keys, remapping, help, palette, search, preview, arrivals,
alerts, and API text that must never be read as markup."""

from __future__ import annotations

import re
from typing import Any

from textual import events
from textual.command import CommandList
from textual.content import Content

from inbox_tui import messages
from inbox_tui.alerts import AlertSettings
from inbox_tui.api.models import InboxAction
from inbox_tui.app import InboxApp, fixed_clock
from inbox_tui.keymap import SPECS, effective_keys, parse_keys
from inbox_tui.screens.confirm import ConfirmScreen
from inbox_tui.screens.help import HelpScreen, help_text
from inbox_tui.screens.inbox import InboxScreen
from inbox_tui.screens.preview import PreviewScreen
from inbox_tui.state import InboxState
from inbox_tui.widgets.header import InboxHeader, Link
from inbox_tui.widgets.inbox_list import ROW_HEIGHT
from tests.tui.factories import NOW, event, make, sample_inbox
from tests.tui.helpers import Posted, wait_for


def app_with(items: list[Any] | None = None, **kwargs: Any) -> InboxApp:
    """The sample inbox (or these notifications), frozen clock, no server."""
    state = InboxState.from_notifications(sample_inbox() if items is None else items)
    return InboxApp(initial=state, clock=fixed_clock(NOW), link=Link("live"), **kwargs)


def screen_of(app: InboxApp) -> InboxScreen:
    screen = app.inbox_screen
    assert screen is not None
    return screen


def current_title(app: InboxApp) -> str:
    notification = screen_of(app).inbox.notification
    assert notification is not None
    return notification.title


async def test_next_and_previous_unread() -> None:
    app = app_with()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("G", "N")
        assert current_title(app) == 'User account "grace" created'
        await pilot.press("g", "n")
        assert current_title(app) == "Your workspace 'api' is low on disk"
        await pilot.press("G", "n")  # nothing unread below: stays, says so
        assert current_title(app) == "Report: workspace builds failed"


async def test_keys_are_remapped_from_the_config_table() -> None:
    app = app_with(keys={"toggle_read": "x", "cursor_down": ["down", "J"], "nonsense": "z"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        first = screen_of(app).inbox.notification
        assert first is not None and not first.is_read
        await pilot.press("r")  # the default no longer toggles
        assert not app.state.by_id[first.id].is_read
        await pilot.press("x")
        assert app.state.by_id[first.id].is_read
        await pilot.press("J")
        assert screen_of(app).inbox.highlighted == 1
        warnings = [n for n in app._notifications if n.severity == "warning"]
        assert warnings and "nonsense" in warnings[0].message


def test_parse_keys_reports_every_problem() -> None:
    keymap, problems = parse_keys({"quit": "q,ctrl+q", "help": ["?", "f1"], "bogus": "b", "search": 5, "top": "a b"})
    assert keymap == {"quit": "q,ctrl+q", "help": "?,f1"}
    assert len(problems) == 3
    assert len({spec.id for spec in SPECS}) == len(SPECS)  # ids are unique
    assert effective_keys({"quit": "ctrl+q"})["quit"] == "ctrl+q"


async def test_help_lists_keys_in_force() -> None:
    app = app_with(keys={"toggle_read": "x"})
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = help_text(app.keymap_overrides).plain
        assert re.search(r"^\s+x\s+Read/unread\s+toggle_read$", text, re.M)
        assert re.search(r"^\s+1…9\s+Open action N", text, re.M)
        await pilot.press("escape")
        assert isinstance(app.screen, InboxScreen)


async def test_mark_all_read_defaults_to_no() -> None:
    app = app_with()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("A")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        assert app.state.unread_count == 3
        await pilot.press("A", "y")
        assert app.state.unread_count == 0
        assert app.query_one(InboxHeader).unread == 0


async def test_open_action_copies_the_link_where_no_browser_can_open() -> None:
    app = app_with()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")  # the first notification has two actions (a lone digit opens after a pause)
        await wait_for(pilot, lambda: app.clipboard == "https://coder.example.com/templates", "action 2 opened")
        assert app.state.by_id[screen_of(app).inbox.ids[0]].is_read  # opening marks it read, as Coder's UI does
        await pilot.press("j", "j", "j", "j", "o")  # "Deploy finished": no action, a link in its message
        assert app.clipboard == "https://ci.example.com/482"
        await pilot.press("2")
        await wait_for(pilot, lambda: any("has 1 link." in n.message for n in app._notifications), "the warning")


async def test_non_web_links_are_never_opened() -> None:
    item = make(1, actions=(InboxAction("Run", "file:///etc/passwd"),))
    app = app_with([item])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        assert app.clipboard == "file:///etc/passwd"
        assert any("not opening a file link" in n.message for n in app._notifications)


async def test_copy_url() -> None:
    app = app_with()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("y")
        assert app.clipboard == "https://coder.example.com/workspaces"


async def test_search_loaded_items_and_clear_it() -> None:
    app = app_with()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("slash", *"docker", "enter")
        inbox = screen_of(app).inbox
        titles = [app.state.by_id[i].title for i in inbox.ids]
        assert titles == ["Template 'docker' deprecated", "Report: workspace builds failed"]
        assert 'search "docker"' in app.query_one(InboxHeader).scope
        assert inbox.has_focus
        await pilot.press("escape")
        assert len(inbox.ids) == len(sample_inbox())


async def test_preview_beside_the_list_and_full_screen_when_narrow() -> None:
    app = app_with()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        screen = screen_of(app)
        assert screen.preview_open and screen.has_class("-preview")
        await pilot.press("enter")
        assert not screen.preview_open
    app = app_with()
    async with app.run_test(size=(60, 30)) as pilot:
        await pilot.press("enter")
        assert isinstance(app.screen, PreviewScreen)
        await pilot.press("1")
        assert app.clipboard == "https://coder.example.com/workspaces"
        await pilot.press("escape")
        assert isinstance(app.screen, InboxScreen)


async def test_palette_offers_the_same_actions() -> None:
    app = app_with()
    async with app.run_test(size=(120, 40)) as pilot:
        first = screen_of(app).inbox.ids[0]
        await pilot.press("ctrl+p")
        await pilot.press(*"Read/unread")

        def first_hit() -> str:
            hits = app.screen.query(CommandList)
            if not hits or not hits.first().option_count:
                return ""
            prompt = hits.first().get_option_at_index(0).prompt
            return prompt.plain if isinstance(prompt, Content) else str(prompt)

        await wait_for(pilot, lambda: first_hit().startswith("Read/unread"), "the palette's hit")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.state.by_id[first].is_read, "the palette's toggle")


async def test_arrivals_keep_the_cursor_and_show_a_new_marker_when_scrolled() -> None:
    items = [make(n) for n in range(60)]
    app = app_with(items)
    async with app.run_test(size=(100, 24)) as pilot:
        screen = screen_of(app)
        inbox = screen.inbox
        await pilot.press("j", "j")
        # At the top: new rows appear above, the same notification stays highlighted.
        screen.queue_arrival(event(make(100), 61))
        await wait_for(pilot, lambda: len(inbox.ids) == 61, "the arrival")
        assert current_title(app) == "Notification 57" and inbox.highlighted == 3
        # Scrolled away: the view stays put and a marker counts what came in above.
        await pilot.press("ctrl+d", "ctrl+d", "ctrl+d")
        before = current_title(app)
        scroll = inbox.scroll_y
        for n in range(101, 104):
            screen.queue_arrival(event(make(n), 62))
        await wait_for(pilot, lambda: len(inbox.ids) == 64, "three more")
        assert current_title(app) == before
        assert inbox.scroll_y == scroll + 3 * ROW_HEIGHT
        marker = app.screen.query_one("#new-marker")
        assert marker.display and "3 new" in str(marker.render())
        await pilot.press("g")
        assert not marker.display


async def test_a_burst_is_coalesced_and_fully_shown() -> None:
    app = app_with([make(n) for n in range(20)])
    posted = Posted()
    async with app.run_test(size=(100, 24), message_hook=posted) as pilot:
        screen = screen_of(app)
        for n in range(1000, 2000):
            screen.queue_arrival(event(make(n), n))
        grew = await posted.wait(messages.InboxGrew, "the burst shown")
        # All queued before the screen ran again: one batch, one repaint, one message.
        assert grew.added == 1000 and len(posted.of(messages.InboxGrew)) == 1
        await pilot.pause()
        assert len(screen.inbox.ids) == len(set(screen.inbox.ids)) == 1020
        assert app.query_one(InboxHeader).unread == 1999


async def test_unfocused_terminal_gets_one_alert_per_batch() -> None:
    written: list[str] = []
    app = app_with(alert=AlertSettings("osc9"), terminal_write=written.append)
    posted = Posted()
    async with app.run_test(size=(100, 24), message_hook=posted) as pilot:
        screen = screen_of(app)
        screen.queue_arrival(event(make(50, title="While focused"), 4))
        focused = await posted.wait(messages.NewUnread, "a focused arrival")
        assert [n.title for n in focused.notifications] == ["While focused"]
        await pilot.pause()
        assert written == []  # the app was told, but the terminal has focus
        app.post_message(events.AppBlur())
        await wait_for(pilot, lambda: not app.app_focus, "blur")
        screen.queue_arrival(event(make(51, title="Away 1"), 5))
        screen.queue_arrival(event(make(52, title="Away 2"), 6))
        away = await posted.wait(messages.NewUnread, "the batch while away", lambda m: m is not focused)
        assert sorted(n.title for n in away.notifications) == ["Away 1", "Away 2"]
        await pilot.pause()
        assert len(written) == 1 and written[0].startswith("\x1b]9;2 new notifications: Away 2")


async def test_api_text_is_never_markup() -> None:
    nasty = make(1, title="[bold red]$var[/] [@click=app.quit]x[/]", content="[link=file:///]x[/link] **ok**")
    app = app_with([nasty])
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        row = screen_of(app).inbox.render_line(0).text
        assert "[bold red]$var[/] [@click=app.quit]x[/]" in row
        title = app.screen.query_one("#preview-title").render()
        assert isinstance(title, Content) and title.plain == nasty.title
        assert app.is_running


async def test_offline_link_and_empty_inbox_say_so() -> None:
    app = InboxApp(initial=InboxState.from_notifications([]), link=Link("offline", detail="refused"))
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        assert "No notifications" in str(app.screen.query_one("#empty").render())
        assert app.query_one(InboxHeader).link.state == "offline"


async def test_palette_lists_the_highlighted_notifications_actions_and_admin() -> None:
    app = app_with()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        from inbox_tui.screens.palette import AppCommands, InboxCommands

        screen_names = [command.name for command in InboxCommands(app.screen)._commands()]
        app_names = [command.name for command in AppCommands(app.screen)._commands()]
        # The screen's commands (InboxScreen.COMMANDS) and the app's (InboxApp.COMMANDS) do not overlap.
        assert not set(screen_names) & set(app_names)
        assert "Open: View workspaces" in screen_names and "Open: View templates" in screen_names
        assert "Admin" in app_names and "Alert: off" in app_names
        assert "Read/unread" in screen_names and "Down" not in screen_names  # moving keys stay keys


async def test_alert_command_gets_the_notification_in_its_environment(tmp_path: Any) -> None:
    out = tmp_path / "alert.txt"
    command = f"sh -c 'printf %s \"$INBOX_TITLE\" > {out}'"
    app = app_with(alert=AlertSettings("command", command))
    async with app.run_test(size=(100, 24)) as pilot:
        screen = screen_of(app)
        app.post_message(events.AppBlur())
        await wait_for(pilot, lambda: not app.app_focus, "blur")
        screen.queue_arrival(event(make(60, title="Build; rm -rf / done"), 4))
        await wait_for(pilot, lambda: out.exists() and out.read_text() != "", "the alert command")
        assert out.read_text() == "Build; rm -rf / done"


async def test_j_and_k_stop_at_the_ends_instead_of_wrapping() -> None:
    app = app_with()
    async with app.run_test(size=(120, 40)) as pilot:
        inbox = screen_of(app).inbox
        last = len(inbox.ids) - 1
        await pilot.press("k")
        assert inbox.highlighted == 0
        await pilot.press("G", "j")
        assert inbox.highlighted == last
        await pilot.press("j", "j")
        assert inbox.highlighted == last
        await pilot.press("k")
        assert inbox.highlighted == last - 1
