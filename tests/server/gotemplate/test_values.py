"""Go's values: fields, chains, the missing value and truth (server/notify/gotemplate/values.py)."""

from __future__ import annotations

from tests.server.gotemplate.helpers import r


def test_text_and_fields() -> None:
    assert r("plain text, no actions") == "plain text, no actions"
    assert r("{{.Labels.name}} / {{.Data.n}}", {"name": "ws"}, {"n": "x"}) == "ws / x"
    assert r("{{.UserName}} {{.UserUsername}} {{.UserEmail}}") == "Bobby bob bob@coder.com"
    assert r("{{.UserID}}") == "6f1c3e0a-5d8a-4a4e-9a59-0b8b7c7f3f10"
    assert r("{{ $.Labels.a }}{{ $ }}", {"a": "A"}).startswith("A{")


def test_nested_map_fields_and_chains() -> None:
    data = {"chat": {"owner": {"name": "alice"}}, "items": [{"title": "T1"}]}
    assert r("{{.Data.chat.owner.name}}", data=data) == "alice"
    assert r("{{(index .Data.items 0).title}}", data=data) == "T1"
    assert r("{{with .Data.chat}}{{.owner.name}}{{end}}", data=data) == "alice"


def test_missing_keys_print_no_value() -> None:
    assert r("[{{.Labels.nope}}]") == "[<no value>]"
    assert r("[{{.Data.nope}}]", data={}) == "[<no value>]"
    assert r("[{{.Data.nope}}]") == "[<no value>]"  # Data omitted entirely is a nil map
    assert r("[{{.Data.a.b.c}}]", data={}) == "[<no value>]"  # fields of an invalid value stay invalid
    assert r("[{{.Data.n}}]", data={"n": None}) == "[<no value>]"  # JSON null is a nil interface
    assert r("{{if .Labels.nope}}yes{{else}}no{{end}}") == "no"
    assert r('{{if eq .Labels.nope "x"}}yes{{else}}no{{end}}') == "no"


def test_truthiness() -> None:
    src = "{{if .Data.v}}T{{else}}F{{end}}"
    for value, expected in [
        ("", "F"),
        ("x", "T"),
        (0, "F"),
        (0.0, "F"),
        (2, "T"),
        (False, "F"),
        (True, "T"),
        (None, "F"),
        ([], "F"),
        ([0], "T"),
        ({}, "F"),
        ({"a": 1}, "T"),
    ]:
        assert r(src, data={"v": value}) == expected, value
