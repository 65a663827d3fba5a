"""The command line's parsing and text helpers (no server needed)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from inbox_tui import cli
from inbox_tui.api.models import InboxEvent, InboxNotification
from inbox_tui.text import markdown_to_plain, relative_time
from tests.client.fakes import notification_json

NOW = datetime(2025, 3, 18, 12, 0, 0, tzinfo=UTC)


def test_global_flags_work_before_and_after_the_command() -> None:
    parser = cli.build_parser()
    before = parser.parse_args(["--url", "https://a", "--token", "t", "list", "--unread"])
    after = parser.parse_args(["list", "--url", "https://a", "--token", "t", "--unread"])
    for args in (before, after):
        assert (args.url, args.token, args.demo, args.command, args.unread) == ("https://a", "t", False, "list", True)
    assert parser.parse_args(["watch", "--demo"]).demo
    bare = parser.parse_args([])
    assert bare.command is None and bare.url is None


def test_send_alias_and_repeatable_filters() -> None:
    parser = cli.build_parser()
    custom = parser.parse_args(["custom", "T", "M"])
    assert (custom.command, custom.title, custom.message) == ("custom", "T", "M")
    listing = parser.parse_args(["list", "--template", "a,b", "--template", "c", "--target", "x"])
    assert cli._id_list(listing.template) == ["a", "b", "c"]
    assert cli._id_list(listing.target) == ["x"]
    assert parser.parse_args(["watch"]).format == "plaintext"


def test_unread_and_read_are_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.build_parser().parse_args(["list", "--unread", "--read"])
    assert info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_clean_line_removes_escapes_and_bidi_overrides() -> None:
    assert cli.clean_line("Build\x1b[2J done\n\tnow\u202e!") == "Build done now!"
    assert cli.clean_line("  a   b  ") == "a b"


def test_markdown_to_plain() -> None:
    text = "# Title\n\nYour workspace **dev** was [deleted](https://c/x).\n\n![alt](https://i/p.png)"
    assert markdown_to_plain(text) == (
        "Title\n\nYour workspace dev was deleted (https://c/x).\n\nalt (https://i/p.png)"
    )
    assert markdown_to_plain("This is the __content__.") == "This is the content."


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=10), "now"),
        (timedelta(minutes=5), "5m"),
        (timedelta(hours=3), "3h"),
        (timedelta(days=2), "2d"),
        (timedelta(days=14), "2w"),
        (timedelta(days=60), (NOW - timedelta(days=60)).astimezone().strftime("%Y-%m-%d")),
    ],
)
def test_age(delta: timedelta, expected: str) -> None:
    # The CLI's ages: the list's, but older ones always as ISO dates (greppable).
    assert relative_time(NOW - delta, NOW, iso_dates=True) == expected


def test_list_and_watch_lines() -> None:
    notification = InboxNotification.from_json({**notification_json(1), "title": "Deploy\x1b]0;pwned\x07 done"})
    line = cli.list_line(notification, NOW)
    assert line.startswith(f"{notification.id}  unread  ")
    assert line.endswith("  Deploy done")
    assert cli.watch_line(notification).endswith("  Deploy done - Body **1**")


def test_event_json_is_ascii_and_round_trips() -> None:
    notification = InboxNotification.from_json({**notification_json(1), "title": "Café \x1b"})
    text = cli.event_json(InboxEvent(notification=notification, unread_count=3))
    assert text.isascii() and "\x1b" not in text
    assert json.loads(text)["notification"]["title"] == "Café \x1b"
    assert json.loads(text)["unread_count"] == 3
