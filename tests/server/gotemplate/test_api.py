"""The public API: parsed templates are reusable and cached, output is not escaped, actions are checked
(server/notify/gotemplate/__init__.py)."""

from __future__ import annotations

import pytest

from server.notify.gotemplate import GoTemplate, TemplateRenderError, TemplateSyntaxError, render, render_actions
from tests.server.gotemplate.helpers import BASE, payload, r


def test_no_escaping() -> None:
    labels = {"x": "<b>&amp; \"q\" 'a' {{.Labels.y}} **md**"}
    assert r("{{.Labels.x}}", labels) == labels["x"]


def test_parsed_templates_are_reusable_and_cached() -> None:
    tmpl = GoTemplate("{{.Labels.a}}")
    assert tmpl.render(payload({"a": "1"}), base_url=BASE) == "1"
    assert tmpl.render(payload({"a": "2"}), base_url=BASE) == "2"
    assert render("{{.Labels.a}}", payload({"a": "3"}), base_url=BASE) == "3"
    with pytest.raises(TemplateSyntaxError):
        render("{{", payload(), base_url=BASE)


def test_render_actions_rejects_bad_json() -> None:
    for bad in ("not json", '{"url": "x"}', "[1]", '[{"url": 1, "label": "x"}]'):
        with pytest.raises(TemplateRenderError):
            render_actions(bad, payload(), base_url=BASE)
    assert render_actions("[]", payload(), base_url=BASE) == []
