"""`[keys]` entries that cannot work as written are refused with a warning naming the config line.

A key bound twice on the inbox (`quit = "j"`: the list's `j` wins, and nothing quits any more) or a key
Textual cannot deliver (`"jj"`) is ignored, the default stays, and the warning says where it was written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox_tui.app import InboxApp, fixed_clock
from inbox_tui.config import load_config
from inbox_tui.keymap import is_key, parse_keys
from inbox_tui.state import InboxState
from inbox_tui.widgets.header import Link
from tests.tui.factories import NOW, sample_inbox
from tests.tui.helpers import inbox_screen, wait_for


def test_a_key_already_bound_on_the_inbox_is_refused() -> None:
    keymap, problems = parse_keys({"quit": "j"}, {"quit": "config.toml line 4"})
    assert keymap == {}
    assert problems == ["config.toml line 4: quit = 'j': j is already bound to Down (cursor_down)"]


def test_swapping_two_keys_is_fine_and_a_free_key_is_kept() -> None:
    table = {"toggle_read": "q", "quit": "r", "compact": "x"}
    assert parse_keys(table) == (table, [])


def test_only_the_clashing_entry_is_dropped() -> None:
    keymap, problems = parse_keys({"toggle_read": "x", "search": "n"})
    assert keymap == {"toggle_read": "x"}
    assert problems == ["search = 'n': n is already bound to Next unread (next_unread)"]


@pytest.mark.parametrize("key", ["jj", "ctrl+", "hyperx+a", "tab tab"])
def test_a_key_textual_cannot_deliver_is_refused(key: str) -> None:
    keymap, problems = parse_keys({"quit": key})
    assert keymap == {}
    assert len(problems) == 1 and problems[0].startswith("quit: ")


@pytest.mark.parametrize(
    "key", ["x", "G", "ctrl+x", "question_mark", "slash", "pagedown", "f5", "enter", "escape", "space", "ctrl+shift+k"]
)
def test_keys_textual_delivers_are_keys(key: str) -> None:
    assert is_key(key)


def test_the_config_loader_records_the_line_of_each_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        'alert = "bell"\n\n[keys]\ntoggle_read = "x"\n"quit" = "j"  # oops\n\n[other]\nquit = 1\n',
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.keys == {"toggle_read": "x", "quit": "j"}
    assert config.key_origins == {"toggle_read": "config.toml line 4", "quit": "config.toml line 5"}


def test_dotted_keys_at_the_top_level_are_found_too(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('url = "http://x"\nkeys.quit = "Q"\n', encoding="utf-8")
    assert load_config(path).key_origins == {"quit": "config.toml line 2"}


async def test_the_app_warns_keeps_q_for_quit_and_j_for_down() -> None:
    app = InboxApp(
        initial=InboxState.from_notifications(sample_inbox()),
        clock=fixed_clock(NOW),
        link=Link("live"),
        keys={"quit": "j"},
        key_origins={"quit": "config.toml line 7"},
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: bool(app._notifications), "the warning")
        (warning,) = list(app._notifications)
        assert warning.severity == "warning"
        assert "config.toml line 7: quit = 'j': j is already bound to Down" in warning.message
        inbox = inbox_screen(app).inbox
        before = inbox.highlighted
        await pilot.press("j")
        assert inbox.highlighted == (before or 0) + 1
        assert app.is_running
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, "q to quit")
