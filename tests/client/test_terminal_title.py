"""The terminal title's text and escape sequence: short, and safe whatever the deployment is called."""

from __future__ import annotations

from inbox_tui.terminal_title import title_sequence, title_text


def test_the_count_leads_only_when_something_is_unread() -> None:
    assert title_text(3, "local") == "(3) inbox · local"
    assert title_text(0, "local") == "inbox · local"
    assert title_text(2, "") == "(2) inbox"


def test_a_hostile_name_cannot_end_the_sequence_or_run_long() -> None:
    sequence = title_sequence(title_text(1, "evil\x07\x1b]2;pwned\x1b\\" + "x" * 200))
    assert sequence.startswith("\x1b]2;(1) inbox · evil")
    assert sequence.endswith("\x07")
    body = sequence[len("\x1b]2;") : -1]
    assert "\x1b" not in body and "\x07" not in body
    assert len(body) <= len("(1) inbox · ") + 40
