"""Parsing: the syntax errors Go reports, with their positions (server/notify/gotemplate/parse.py, lex.py)."""

from __future__ import annotations

import pytest

from server.notify.gotemplate import GoTemplate, TemplateSyntaxError


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{if}}", "missing value for if"),
        ("{{if .Labels.x}}", "unexpected EOF"),
        ("{{end}}", "unexpected {{end}}"),
        ("{{else}}", "unexpected {{else}}"),
        ("{{.Labels.x", "unclosed action"),
        ("{{$y}}", 'undefined variable "$y"'),
        ("{{nosuchfunc}}", 'function "nosuchfunc" not defined'),
        ('{{"abc}}', "unterminated quoted string"),
        ("{{/* open", "unclosed comment"),
        ("{{/* c */ x}}", "comment ends before closing delimiter"),
        ("{{(1}}", "unclosed left paren"),
        ("{{1)}}", "unexpected right paren"),
        ("{{break}}", "{{break}} outside {{range}}"),
        ('{{template "x"}}', "{{template}} is not supported"),
        ('{{.Labels.a | "x"}}', "non executable command in pipeline stage 2"),
        ("{{3x}}", "bad number syntax"),
        ("{{range $i, $v, $w := .Data}}{{end}}", "too many declarations in range"),
        ("{{$a, $b := 1}}", "too many declarations in command"),
        ('{{"a".b}}', "unexpected . after term"),
        ("{{if 1}}{{else}}{{else}}{{end}}", "expected end; found {{else}}"),
    ],
)
def test_syntax_errors(source: str, message: str) -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        GoTemplate(source, "t")
    assert message in str(info.value)
    assert str(info.value).startswith("template: t:1:")


def test_syntax_error_position() -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        GoTemplate("line one\nline two {{ nosuch }}", "body")
    err = info.value
    assert (err.line, err.column, err.offset) == (2, 13, 21)
    assert str(err) == 'template: body:2:13: function "nosuch" not defined'
