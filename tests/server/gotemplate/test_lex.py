"""Lexing: trim markers, comments, literals (server/notify/gotemplate/lex.py)."""

from __future__ import annotations

from server.notify.gotemplate import render
from tests.server.gotemplate.helpers import BASE, TEMPLATES, payload, r


def test_trim_markers() -> None:
    assert r("a  \n {{- .Labels.x -}} \n\t b", {"x": "X"}) == "aXb"
    assert r("a {{- .Labels.x}} b", {"x": "X"}) == "aX b"
    assert r("a {{.Labels.x -}} b", {"x": "X"}) == "a Xb"
    # "-" without a space next to it is a number, not a trim marker.
    assert r("a {{-3}} b") == "a -3 b"
    body = TEMPLATES["Workspace Marked as Dormant"].body_template
    tail = "\n\nActivate your workspace using the link below to resume working in it."
    assert render(body, payload({"name": "w"}), base_url=BASE).endswith("dormancy threshold." + tail)


def test_comments() -> None:
    assert r("a{{/* a comment */}}b") == "ab"
    assert r("a {{- /* trimmed */ -}} b") == "ab"
    assert r("a{{/* multi\nline */}}b") == "ab"


def test_literals() -> None:
    assert r("{{\"a\\tb\"}}|{{`raw\\n`}}|{{true}}|{{false}}|{{42}}|{{-7}}|{{1.5}}|{{0x1F}}|{{'a'}}") == (
        "a\tb|raw\\n|true|false|42|-7|1.5|31|97"
    )
