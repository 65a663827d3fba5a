"""Execution: control structures, variables, pipelines and render errors (server/notify/gotemplate/exec.py)."""

from __future__ import annotations

from typing import Any

import pytest

from server.notify.gotemplate import GoTemplate, TemplateRenderError, TemplateSyntaxError
from tests.server.gotemplate.helpers import BASE, payload, r


def test_if_else_if_else() -> None:
    src = '{{if eq .Labels.t "a"}}A{{else if eq .Labels.t "b"}}B{{else if .Labels.t}}other{{else}}none{{end}}'
    assert r(src, {"t": "a"}) == "A"
    assert r(src, {"t": "b"}) == "B"
    assert r(src, {"t": "c"}) == "other"
    assert r(src, {"t": ""}) == "none"
    assert r(src) == "none"


def test_with_and_else_with() -> None:
    src = "{{with .Data.a}}a={{.}}{{else with .Data.b}}b={{.}}{{else}}neither{{end}}"
    assert r(src, data={"a": "x"}) == "a=x"
    assert r(src, data={"b": 2}) == "b=2"
    assert r(src, data={"a": 0, "b": ""}) == "neither"


def test_range_lists_maps_and_else() -> None:
    data = {"l": ["x", "y"], "m": {"b": "2", "a": "1"}, "empty": [], "nested": [{"t": 1}, {"t": 2}]}
    assert r("{{range .Data.l}}[{{.}}]{{end}}", data=data) == "[x][y]"
    assert r("{{range $i, $v := .Data.l}}{{$i}}={{$v}};{{end}}", data=data) == "0=x;1=y;"
    assert r("{{range $v := .Data.l}}{{$v}}{{end}}", data=data) == "xy"
    # Maps range in key order, as Go's fmtsort does.
    assert r("{{range $k, $v := .Data.m}}{{$k}}:{{$v}} {{end}}", data=data) == "a:1 b:2 "
    assert r("{{range .Data.empty}}x{{else}}none{{end}}", data=data) == "none"
    assert r("{{range .Data.missing}}x{{else}}none{{end}}", data=data) == "none"
    assert r("{{range .Data.nested}}{{.t}},{{end}}", data=data) == "1,2,"
    assert r("{{range $i := 3}}{{$i}}{{end}}") == "012"


def test_range_break_continue() -> None:
    src = "{{range .Data.l}}{{if eq . 2.0}}{{continue}}{{end}}{{if eq . 4.0}}{{break}}{{end}}{{.}}{{end}}"
    assert r(src, data={"l": [1, 2, 3, 4, 5]}) == "13"


def test_variables_declare_assign_and_scope() -> None:
    assert r('{{$x := "a"}}{{$x}}{{$x = "b"}}{{$x}}') == "ab"
    # Assignment inside a block changes the outer variable (the Report template's $first relies on it).
    assert (
        r(
            "{{$f := true}}{{range .Data.l}}{{if not $f}}+{{else}}{{$f = false}}{{end}}{{.}}{{end}}",
            data={"l": ["a", "b", "c"]},
        )
        == "a+b+c"
    )
    # A variable declared inside a block is gone after {{end}}.
    with pytest.raises(TemplateSyntaxError, match='undefined variable "\\$y"'):
        GoTemplate("{{if true}}{{$y := 1}}{{end}}{{$y}}")
    # $ is the root whatever dot is.
    assert r("{{range .Data.l}}{{$.Labels.p}}{{.}}{{end}}", {"p": "-"}, {"l": ["a", "b"]}) == "-a-b"


def test_pipelines_and_parentheses() -> None:
    assert r("{{.UserEmail | urlquery}}", UserEmail="a+b c@x.com") == "a%2Bb+c%40x.com"
    assert r('{{"x" | printf "%s-%s" "y"}}') == "y-x"
    assert r("{{if eq (len .Data.l) 2}}two{{end}}", data={"l": [1, 2]}) == "two"
    assert r('{{if and (eq .Labels.a "1") (ne .Labels.b "1")}}ok{{end}}', {"a": "1", "b": "2"}) == "ok"


@pytest.mark.parametrize(
    ("source", "data", "message"),
    [
        ("{{.NoSuchField}}", {}, "can't evaluate field NoSuchField in type types.MessagePayload"),
        ("{{.Data.s.y}}", {"s": "abc"}, "can't evaluate field y in type string"),
        ("{{.Data.n.y}}", {"n": None}, "nil pointer evaluating interface {}.y"),
        ("{{range .Data.s}}{{end}}", {"s": "abc"}, "range can't iterate over abc"),
        ("{{len .Data.n}}", {"n": 1}, "len of type float64"),
        ("{{index .Data.l 1.5}}", {"l": [1]}, "cannot index slice/array with type float64"),
        ("{{.Data.n 1}}", {"n": 1}, "n is not a method but has arguments"),
        ("{{eq 1}}", {}, "missing argument for comparison"),
        ("{{lt 1 2 3}}", {}, "wrong number of args for lt: want 2 got 3"),
        ("{{1 2}}", {}, "can't give argument to non-function 1"),
    ],
)
def test_render_errors(source: str, data: dict[str, Any], message: str) -> None:
    with pytest.raises(TemplateRenderError) as info:
        GoTemplate(source, "t").render(payload(data=data), base_url=BASE)
    assert message in str(info.value)
    assert str(info.value).startswith("template: t:1:")
    assert 'executing "t" at <' in str(info.value)
