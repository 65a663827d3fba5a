"""Display text from the API: control characters, markdown snippets, icon glyphs, relative times, alerts."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from inbox_tui.alerts import AlertSettings, command_environment, escape_sequence, summarize
from inbox_tui.api.models import ICON_ACCOUNT, ICON_OTHER, ICON_TEMPLATE, ICON_WORKSPACE
from inbox_tui.text import markdown_to_text, relative_time, relative_time_long
from inbox_tui.widgets.render import URL_ICON_GLYPH, clean_block, clean_line, icon_glyph, snippet
from tests.tui.factories import NOW, make

VECTORS = Path(__file__).resolve().parents[1] / "data" / "plaintext-vectors.json"


def test_titles_lose_control_characters_and_bidi_overrides() -> None:
    title = "Build \x1b[31mfailed\x1b[0m\x07 on\tmain\u202e\r\nnow"
    assert clean_line(title) == "Build failed on main now"  # escape sequences go whole
    assert "\x1b" not in clean_line(title) and "\u202e" not in clean_line(title)


def test_bodies_keep_line_breaks_but_not_escapes() -> None:
    assert clean_block("a\r\nb\x1b]52;c;AAAA\x07\n\tc") == "a\nb\n\tc"  # the OSC 52 payload too


def test_snippets_match_coders_plaintext_without_urls() -> None:
    # The golden plaintext of Coder's webhook templates, minus the " (url)" after links: a one-line
    # preview keeps the words and drops the addresses.
    vectors = json.loads(VECTORS.read_text())
    assert vectors
    for vector in vectors:
        want = clean_line(re.sub(r" \((?:https?|mailto):[^)\s]*\)", "", vector["plaintext"]))
        assert markdown_to_text(vector["markdown"]) == want, vector["case"]


def test_snippet_strips_markdown_and_is_one_line() -> None:
    text = "# Title\n\n**Bold** and _it_ with `code`, a [link](https://x.y) and ![img](https://x.y/i.png).\n- item"
    assert snippet(text) == "Title Bold and it with code, a link and img. item"
    assert snippet("x" * 1000, limit=50).endswith("…") and len(snippet("x" * 1000, limit=50)) == 50
    assert snippet("snake_case_name stays") == "snake_case_name stays"


def test_icon_glyphs() -> None:
    glyphs = {icon_glyph(i) for i in (ICON_WORKSPACE, ICON_ACCOUNT, ICON_TEMPLATE, ICON_OTHER)}
    assert len(glyphs) == 4
    assert icon_glyph("DEFAULT_WORKSPACE_ICON") == icon_glyph(ICON_WORKSPACE)  # pre-#17115 name
    assert icon_glyph("https://coder.example.com/icon.svg") == URL_ICON_GLYPH
    assert icon_glyph("") == icon_glyph(ICON_OTHER)


def test_relative_times() -> None:
    ages = [timedelta(seconds=10), timedelta(minutes=5), timedelta(hours=3), timedelta(days=2), timedelta(days=15)]
    assert [relative_time(NOW - age, NOW) for age in ages] == ["now", "5m", "3h", "2d", "2w"]
    assert relative_time(NOW - timedelta(days=40), NOW) == "Apr 23"
    assert relative_time(NOW - timedelta(days=800), NOW).count("-") == 2
    assert relative_time_long(NOW - timedelta(minutes=5), NOW) == "5 minutes ago"
    assert relative_time_long(NOW - timedelta(days=1), NOW) == "a day ago"


def test_alert_sequences_are_sanitized() -> None:
    evil = make(1, title="Deploy;\x1b]0;pwned\x07 done", content="line\x1b[2J **bold**")
    alert = summarize([evil])
    assert alert is not None
    assert escape_sequence("bell", alert) == "\a"
    osc9 = escape_sequence("osc9", alert, env={})
    assert osc9.startswith("\x1b]9;") and osc9.endswith("\x07")
    assert "\x1b" not in osc9[1:-1] and "\x07" not in osc9[:-1]
    osc777 = escape_sequence("osc777", alert, env={})
    _, _, title, body = osc777[:-1].split(";")
    assert title == "Deploy, done" and body == "line bold"
    assert escape_sequence("osc9", alert, env={"TMUX": "/tmp/tmux"}).startswith("\x1bPtmux;\x1b\x1b]9;")
    assert escape_sequence("off", alert) == ""


def test_one_alert_for_a_burst() -> None:
    alert = summarize([make(1), make(3, title="Newest"), make(2)])
    assert alert is not None and alert.title == "3 new notifications: Newest"
    env = command_environment(alert, base={})
    assert env["INBOX_TITLE"] == alert.title and env["INBOX_NOTIFICATION_ID"] == make(3).id
    assert summarize([]) is None


def test_alert_settings_from_config() -> None:
    assert AlertSettings.from_config("osc777", None).mode == "osc777"
    assert AlertSettings.from_config("command", None).mode == "bell"  # no command: fall back to the bell
    assert AlertSettings.from_config("command", "notify-send").command == "notify-send"
    assert AlertSettings.from_config("nonsense", None).mode == "bell"
