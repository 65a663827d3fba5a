"""The builtin functions and Coder's helpers (server/notify/gotemplate/funcs.py)."""

from __future__ import annotations

import re

import pytest

from server.notify.gotemplate import TemplateRenderError, render
from tests.server.gotemplate.helpers import BASE, payload, r


def test_comparisons_follow_go() -> None:
    assert r('{{eq .Labels.k "v"}} {{ne .Labels.k "v"}}', {"k": "v"}) == "true false"
    assert r('{{eq .Labels.k "a" "b" "v"}}', {"k": "v"}) == "true"  # eq with several candidates
    assert r('{{lt "a" "b"}} {{le 2 2}} {{gt 3 2}} {{ge 1 2}}') == "true true true false"
    # JSON numbers are float64 once Coder decodes the payload: they compare with float literals...
    assert r("{{gt .Data.n 1.0}} {{eq .Data.n 3.0}}", data={"n": 3}) == "true true"
    # ...and, as in Go, not with int literals or strings.
    with pytest.raises(TemplateRenderError, match="incompatible types for comparison"):
        r("{{gt .Data.n 1}}", data={"n": 3})
    with pytest.raises(TemplateRenderError, match="incompatible types for comparison"):
        r('{{eq .Data.n "3"}}', data={"n": 3})
    with pytest.raises(TemplateRenderError, match="invalid type for comparison"):
        r("{{lt .Labels.missing 1}}")


def test_logic_functions() -> None:
    assert r('{{and 1 0 "x"}}|{{and 1 "x"}}|{{or 0 "" "y"}}|{{or 0 ""}}|{{not ""}}') == "0|x|y||true"
    # and/or stop at the deciding argument, so later arguments are never evaluated.
    assert r("{{or 1 (index .Data.l 9)}}", data={"l": []}) == "1"


def test_len_index_slice() -> None:
    data = {"l": ["a", "b", "c"], "m": {"k": "v"}}
    assert r("{{len .Data.l}} {{len .Data.m}} {{len .Labels.s}}", {"s": "héllo"}, data) == "3 1 6"  # bytes
    assert r('{{index .Data.l 1}} {{index .Data.m "k"}} {{index .Data.m "x"}}', data=data) == "b v <no value>"
    assert r('[{{index .Labels "x"}}]') == "[]"  # map[string]string's zero value is ""
    assert r("{{slice .Data.l 1}} {{slice .Data.l 0 2}}", data=data) == "[b c] [a b]"
    with pytest.raises(TemplateRenderError, match="index out of range: 5"):
        r("{{index .Data.l 5}}", data=data)


def test_print_functions_and_values() -> None:
    assert r('{{print 1 2 "a" 3}}|{{println "a" 1}}|{{printf "%d%% %5.2f %q %v" 5 1.5 "s" true}}') == (
        '1 2a3|a 1\n|5%  1.50 "s" true'
    )
    data = {"list": [1, "x", None], "map": {"b": 2.5, "a": [1]}, "big": 1234567, "small": 0.00001, "f": 1.5}
    assert r("{{.Data.list}} {{.Data.map}}", data=data) == "[1 x <nil>] map[a:[1] b:2.5]"
    # Go prints float64 with %v: shortest digits, exponent from 1e6 up and below 1e-4.
    assert r("{{.Data.big}} {{.Data.small}} {{.Data.f}} {{1e6}} {{123456.0}}", data=data) == (
        "1.234567e+06 1e-05 1.5 1e+06 123456"
    )


def test_urlquery_html_js() -> None:
    assert r('{{urlquery "a b&c/d~e_f.g-h"}}') == "a+b%26c%2Fd~e_f.g-h"
    assert r('{{html "<a href=\\"x\\">&\'"}}') == "&lt;a href=&#34;x&#34;&gt;&amp;&#39;"
    assert r('{{js "it\'s <b>"}}') == "it\\'s \\u003Cb\\u003E"


def test_helpers() -> None:
    assert r("{{base_url}}/x {{ base_url }}") == "http://test.com/x http://test.com"
    assert r("{{current_year}}") == "2024"
    year = render("{{current_year}}", payload(), base_url=BASE)
    assert re.fullmatch(r"\d{4}", year)
