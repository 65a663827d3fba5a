"""Compact rows, the preview's position, and the remembered state (theme, compact mode, preview position,
unread-only, alert mode, filters) surviving a restart; state files that cannot be read or written."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from inbox_tui import config as cfg
from inbox_tui.alerts import AlertSettings
from inbox_tui.api.client import CoderClient
from inbox_tui.app import InboxApp, fixed_clock
from inbox_tui.keymap import SPECS, SPECS_BY_ID, parse_keys
from inbox_tui.screens.admin import AdminScreen
from inbox_tui.screens.help import HelpScreen
from inbox_tui.screens.inbox import InboxScreen
from inbox_tui.screens.preferences import PreferencesScreen
from inbox_tui.screens.preview import PreviewScreen
from inbox_tui.state import Filters, InboxState
from inbox_tui.ui_state import UiState, state_file
from inbox_tui.widgets.header import Link
from inbox_tui.widgets.inbox_list import COMPACT_ROW_HEIGHT, ROW_HEIGHT
from tests.live_server import LiveServer
from tests.tui.factories import NOW, WORKSPACE_TEMPLATE, event, make, sample_inbox
from tests.tui.helpers import inbox_screen, seed_custom, settle, wait_for

TARGET = "d5a0c3a1-5c0e-4a6b-9a6e-2f7e0c8b9d11"


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test here remembers into its own folder, never the user's."""
    path = tmp_path / "state"
    monkeypatch.setenv(cfg.ENV_STATE_DIR, str(path))
    return path


def app_with(items: list[Any] | None = None, **kwargs: Any) -> InboxApp:
    """The sample inbox (or these notifications), frozen clock, no server."""
    state = InboxState.from_notifications(sample_inbox() if items is None else items)
    return InboxApp(initial=state, clock=fixed_clock(NOW), link=Link("live"), **kwargs)


def restarted(**kwargs: Any) -> InboxApp:
    """A fresh app that starts from the state file, as `inbox-tui` does (no server, nothing loaded)."""
    return InboxApp(clock=fixed_clock(NOW), link=Link("live"), remembered=UiState.load(), **kwargs)


def title(app: InboxApp) -> str:
    notification = inbox_screen(app).inbox.notification
    assert notification is not None
    return notification.title


def alert_mode(app: InboxApp) -> str:
    """The alert mode in force (a call, so type checkers do not pin it after the first assert)."""
    return app.alert_settings.mode


def exists(path: Path) -> bool:
    return path.exists()


def write_state_file(data: bytes) -> None:
    state_file().parent.mkdir(parents=True, exist_ok=True)
    state_file().write_bytes(data)


def on_disk() -> dict[str, Any]:
    data = json.loads(state_file().read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


# ----- compact rows ---------------------------------------------------------------------------------


async def test_compact_toggle_changes_row_height_and_keeps_the_highlight() -> None:
    items = [make(n) for n in range(60)]
    app = app_with(items)
    async with app.run_test(size=(100, 24)) as pilot:
        inbox = inbox_screen(app).inbox
        await pilot.press("ctrl+d", "ctrl+d", "ctrl+d", "j")
        before = title(app)
        assert inbox.row_height == ROW_HEIGHT and inbox.virtual_size.height == 60 * ROW_HEIGHT
        await pilot.press("C")
        assert inbox.compact_rows and app.compact
        assert inbox.row_height == COMPACT_ROW_HEIGHT and inbox.virtual_size.height == 60
        assert title(app) == before
        highlighted = inbox.highlighted
        assert highlighted is not None
        height = inbox.scrollable_content_region.height
        assert inbox.scroll_y <= highlighted < inbox.scroll_y + height  # still on screen
        # One line per notification: consecutive lines are consecutive titles, no snippet between them.
        top = int(inbox.scroll_y)
        first, second = inbox.render_line(0).text, inbox.render_line(1).text
        assert items[59 - top].title in first and items[58 - top].title in second
        await pilot.press("j", "k", "ctrl+d")
        await pilot.press("C")
        assert not inbox.compact_rows and inbox.row_height == ROW_HEIGHT
        highlighted = inbox.highlighted
        assert highlighted is not None
        assert inbox.virtual_size.height == 60 * ROW_HEIGHT
        assert inbox.scroll_y % ROW_HEIGHT == 0  # whole rows at the top
        row_top = highlighted * ROW_HEIGHT
        assert inbox.scroll_y <= row_top and row_top + ROW_HEIGHT <= inbox.scroll_y + height
        assert "Body of notification" in inbox.render_line(1).text  # the snippet line is back


async def test_compact_rows_keep_arrivals_and_the_new_marker_right() -> None:
    app = app_with([make(n) for n in range(80)])
    async with app.run_test(size=(100, 24)) as pilot:
        screen = inbox_screen(app)
        inbox = screen.inbox
        await pilot.press("C", "j", "j")
        screen.queue_arrival(event(make(100), 81))
        await wait_for(pilot, lambda: len(inbox.ids) == 81, "the arrival")
        assert title(app) == "Notification 77" and inbox.highlighted == 3 and inbox.scroll_y == 0
        await pilot.press("ctrl+d", "ctrl+d", "ctrl+d", "ctrl+d", "ctrl+d")
        before, scroll = title(app), inbox.scroll_y
        assert scroll > 0
        for n in range(101, 104):
            screen.queue_arrival(event(make(n), 82))
        await wait_for(pilot, lambda: len(inbox.ids) == 84, "three more")
        assert title(app) == before
        assert inbox.scroll_y == scroll + 3 * COMPACT_ROW_HEIGHT
        marker = app.screen.query_one("#new-marker")
        assert marker.display and "3 new" in str(marker.render())
        await pilot.press("g")
        assert not marker.display and inbox.highlighted == 0


@pytest.fixture
async def member(live_server: LiveServer) -> AsyncIterator[CoderClient]:
    async with CoderClient(live_server.url, live_server.member_token) as client:
        yield client


async def test_compact_rows_page_through_sixty(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 60)
    UiState(compact=True).save()
    client = CoderClient(live_server.url, live_server.member_token)
    app = InboxApp(client, owns_client=True, watch=False, remembered=UiState.load())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # One page (25 one-line rows) does not fill 37 lines: the next page comes without a keypress.
        await wait_for(pilot, lambda: len(app.state) == 50, "the page that fills the view")
        await settle(pilot)
        for _ in range(3):
            await pilot.press("G")
            await settle(pilot)
        assert not app.state.has_more
        inbox = inbox_screen(app).inbox
        assert [app.state.by_id[i].title for i in inbox.ids] == [f"Custom {i}" for i in range(59, -1, -1)]
        assert title(app) == "Custom 0"


# ----- the preview's position -----------------------------------------------------------------------


async def test_preview_position_toggle() -> None:
    app = app_with()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = inbox_screen(app)
        await pilot.press("enter")
        await pilot.pause()
        preview = screen.query_one("#preview")
        listing = screen.inbox  # (#list-pane is not drawn, so it has no region of its own: see app.tcss)
        assert preview.region.x >= listing.region.right and preview.region.y == listing.region.y
        await pilot.press("p")
        await pilot.pause()
        assert app.preview_position == "bottom" and screen.has_class("-preview-bottom")
        assert preview.region.y >= listing.region.bottom and preview.region.x == listing.region.x
        assert preview.region.width == listing.region.width == 120
        assert screen.preview_open and preview.display
        await pilot.press("p")
        await pilot.pause()
        assert app.preview_position == "right" and not screen.has_class("-preview-bottom")
        assert preview.region.x >= listing.region.right


async def test_preview_position_when_the_pane_is_small() -> None:
    # Below the list, width does not matter: a 60-column pane keeps the preview in the screen.
    UiState(preview_position="bottom").save()
    app = app_with(remembered=UiState.load())
    async with app.run_test(size=(60, 30)) as pilot:
        screen = inbox_screen(app)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, InboxScreen) and screen.preview_open
        assert screen.query_one("#preview").region.height >= 8
    # ... but a short pane has no room below: Enter shows it full-screen, as beside the list when narrow.
    app = app_with(remembered=UiState.load())
    async with app.run_test(size=(120, 16)) as pilot:
        await pilot.press("enter")
        assert isinstance(app.screen, PreviewScreen)
        await pilot.press("escape")
        await pilot.press("p")  # to the right: 120 columns are wide enough
        await pilot.press("enter")
        assert isinstance(app.screen, InboxScreen) and inbox_screen(app).preview_open


# ----- remembered across restarts -------------------------------------------------------------------


async def test_compact_mode_survives_a_restart() -> None:
    app = restarted()
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.press("C")
        assert on_disk()["compact"] is True
    app = restarted()
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        assert app.compact and inbox_screen(app).inbox.compact_rows


async def test_preview_position_survives_a_restart() -> None:
    app = restarted()
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.press("p")
        assert on_disk()["preview_position"] == "bottom"
    app = restarted()
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        assert app.preview_position == "bottom" and inbox_screen(app).has_class("-preview-bottom")


async def test_unread_only_survives_a_restart() -> None:
    app = restarted()
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.press("u")
        assert on_disk()["unread_only"] is True and on_disk()["filters"]["read_status"] == "unread"
    app = restarted()
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        assert app.state.filters.read_status == "unread"
        await pilot.press("u")
        assert on_disk()["unread_only"] is False and on_disk()["filters"]["read_status"] == "all"


async def test_filters_survive_a_restart() -> None:
    chosen = Filters(read_status="read", templates=(WORKSPACE_TEMPLATE,), targets=(TARGET,))
    app = restarted()
    async with app.run_test(size=(100, 24)) as pilot:
        inbox_screen(app).apply_filters(chosen)
        await pilot.pause()
    app = restarted()
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        assert app.state.filters == chosen


async def test_alert_mode_survives_a_restart_and_beats_the_config_file() -> None:
    config_alert = AlertSettings("osc777")
    app = restarted(alert=config_alert)
    async with app.run_test(size=(100, 24)) as pilot:
        assert alert_mode(app) == "osc777"  # nothing remembered: the config file's
        await app.run_action("set_alert('osc9')")
        await pilot.pause()
        assert alert_mode(app) == "osc9" and on_disk()["alert"] == "osc9"
    app = restarted(alert=config_alert)
    async with app.run_test(size=(100, 24)) as pilot:
        assert alert_mode(app) == "osc9"  # the choice made in the app wins
        # Choosing the config file's mode again means "follow the config file".
        await app.run_action("set_alert('osc777')")
        await pilot.pause()
        assert alert_mode(app) == "osc777" and on_disk()["alert"] is None
        # "command" needs a command in the config file: refused, with a reason.
        await app.run_action("set_alert('command')")
        await pilot.pause()
        assert alert_mode(app) == "osc777"
        assert any("alert_command" in n.message for n in app._notifications)


async def test_alert_mode_from_the_palette() -> None:
    app = restarted()
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"Alert: off")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: alert_mode(app) == "off", "the palette's alert choice")
        assert on_disk()["alert"] == "off"


async def test_remembered_command_mode_without_a_command_falls_back_to_the_config() -> None:
    UiState(alert="command").save()
    app = restarted(alert=AlertSettings("osc9"))
    async with app.run_test(size=(100, 24)):
        assert alert_mode(app) == "osc9"


async def test_theme_survives_a_restart_and_beats_the_config_file() -> None:
    app = restarted(theme="dracula")
    async with app.run_test(size=(100, 24)) as pilot:
        assert app.theme == "dracula"
        app.theme = "nord"
        await wait_for(pilot, lambda: state_file().exists() and on_disk()["theme"] == "nord", "the theme saved")
    app = restarted(theme="dracula")
    async with app.run_test(size=(100, 24)) as pilot:
        assert app.theme == "nord"
        app.theme = "dracula"  # the config file's theme again: follow the config file
        await wait_for(pilot, lambda: on_disk()["theme"] is None, "the theme forgotten")


async def test_apps_without_remembered_state_write_nothing(state_dir: Path) -> None:
    app = app_with()
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.press("C", "p", "u")
        await app.run_action("set_alert('off')")
        await pilot.pause()
        assert app.compact and app.preview_position == "bottom"
    assert not exists(state_dir)


# ----- state files that cannot be used --------------------------------------------------------------


async def test_a_corrupt_state_file_starts_with_defaults() -> None:
    write_state_file(b'{"compact": tru\xff')
    app = restarted()
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        assert not app.compact and app.preview_position == "right" and app.state.filters == Filters()
        await pilot.press("C")
        assert on_disk()["compact"] is True  # and the next write replaces the broken file


async def test_an_unwritable_state_file_is_a_warning_not_a_crash() -> None:
    state_file().mkdir(parents=True)  # a directory where the file should be: every write fails
    app = restarted()
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.press("C")
        assert app.is_running and app.compact and inbox_screen(app).inbox.compact_rows
        warnings = [n for n in app._notifications if n.severity == "warning"]
        assert len(warnings) == 1 and "not remembered" in (warnings[0].title or "")
        await pilot.press("p", "u")
        await pilot.pause()
        assert app.preview_position == "bottom" and app.state.filters.read_status == "unread"
        assert len([n for n in app._notifications if n.severity == "warning"]) == 1  # said once


# ----- keys: the new ones, and remapping the other screens' keys ------------------------------------


def test_new_keys_collide_with_nothing() -> None:
    keys: dict[str, str] = {}
    for spec in SPECS:
        for key in spec.keys.split(","):
            assert key not in keys, f"{key} is bound to {keys[key]} and {spec.id}"
            keys[key] = spec.id
    assert SPECS_BY_ID["compact"].keys == "C"
    assert SPECS_BY_ID["preview_position"].keys == "p"
    admin = SPECS_BY_ID["admin"]
    assert (admin.keys, admin.action, admin.scope) == ("a", "open_screen('admin')", "app")
    # Textual's own keys on the inbox screen: the app's, the screen's and the option list's.
    textual_keys = {"ctrl+q", "ctrl+c", "tab", "shift+tab", "up", "down", "home", "end", "pageup", "pagedown"}
    assert not textual_keys & {"C", "p", "a"}


def test_every_binding_id_of_the_app_can_be_remapped() -> None:
    table = {
        "preferences_save": "ctrl+w",
        "unsaved_discard": "D",
        "compose_send": "ctrl+enter",
        "admin_pause": "P",
        "help_close": "x",
        "confirm_yes": "Y",
        "filters_apply": "ctrl+a",
        "preview_back": "b",
        "admin": "ctrl+o",
        "no_such_id": "z",
    }
    keymap, problems = parse_keys(table)
    assert keymap == {k: v for k, v in table.items() if k != "no_such_id"}
    assert problems == ["unknown key binding id 'no_such_id'"]


async def test_a_remapped_modal_key_applies_there() -> None:
    app = app_with(keys={"help_close": "x"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen")
        await pilot.press("escape")
        assert isinstance(app.screen, HelpScreen)  # escape was the default; the config replaced it
        await pilot.press("x")
        assert isinstance(app.screen, InboxScreen)
        assert not [n for n in app._notifications if n.severity == "warning"]


async def test_a_remapped_preferences_key_applies_on_that_screen(shared_server: LiveServer) -> None:
    client = CoderClient(shared_server.url, shared_server.member_token)
    app = InboxApp(client, owns_client=True, watch=False, keys={"preferences_close": "x"})
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, PreferencesScreen), "the preferences screen")
        prefs = app.screen
        assert isinstance(prefs, PreferencesScreen)
        await wait_for(pilot, lambda: prefs.model is not None, "preferences to load")
        await pilot.press("q")  # the default close key no longer closes it
        await pilot.pause()
        assert app.screen is prefs and app.is_running
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, InboxScreen), "the inbox again")


async def test_admin_key_opens_the_admin_screen_for_members_too(shared_server: LiveServer) -> None:
    client = CoderClient(shared_server.url, shared_server.member_token)
    app = InboxApp(client, owns_client=True, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AdminScreen), "the admin screen")
        admin = app.screen
        assert isinstance(admin, AdminScreen)
        await wait_for(pilot, lambda: admin.user is not None, "the user to load")
        assert not admin.can_admin  # a member sees the read-only view
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, InboxScreen), "the inbox again")


async def test_keys_queued_behind_quit_open_no_screen(shared_server: LiveServer) -> None:
    # `q` then `s` typed fast: the preferences screen must not mount into an app that is shutting down.
    client = CoderClient(shared_server.url, shared_server.member_token)
    app = InboxApp(client, owns_client=True, watch=False)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        app.exit()
        app.action_open_screen("preferences")
        app.action_help()
        assert isinstance(app.screen, InboxScreen)
    assert app.return_code == 0


async def test_the_demo_remembers_apart_from_the_real_inbox() -> None:
    demo_file = cfg.ui_state_path(demo=True)
    assert demo_file != state_file() and demo_file.parent == state_file().parent
    demo = InboxApp(clock=fixed_clock(NOW), link=Link("live"), remembered=UiState.load(demo_file), state_path=demo_file)
    async with demo.run_test(size=(100, 24)) as pilot:
        await pilot.press("C")
    assert json.loads(demo_file.read_text(encoding="utf-8"))["compact"] is True
    assert not state_file().exists()  # the demo's choice never reaches the real inbox
    app = restarted()
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        assert not app.compact
