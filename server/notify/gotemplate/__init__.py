"""A Go `text/template` subset, enough to render Coder's notification templates the way Coder does.

Coder renders every title, body and action with `text/template`, option `missingkey=invalid`, against a
`types.MessagePayload` (`coderd/notifications/render/gotmpl.go`). This package reproduces the parts of that
engine the bundled templates use, with Go's semantics:

- actions: text, `{{pipeline}}`, comments, trim markers `{{- ` and ` -}}`, `if`/`else if`/`else`, `with`/
  `else with`/`else`, `range` (lists, maps in key order, ints; `$i, $v :=`; `else`; `break`, `continue`),
  variables (`$`, `$x := ...`, `$x = ...`), pipelines with `|`, parenthesised pipelines and field chains;
- builtins: `and or not len index slice eq ne lt le gt ge print printf println urlquery html js`, plus
  Coder's helpers `base_url` and `current_year`;
- values: a missing map key is Go's invalid value and prints `<no value>`; truth is Go's (empty string,
  0, nil and empty collections are false); `eq` and friends refuse to compare different kinds.

The data is Coder's payload shape: a mapping with `Labels` (strings), `Data` (decoded JSON), `UserName`,
`UserUsername`, `UserEmail`, `UserID`, `NotificationName`, ... The root is a Go struct, so an unknown
top-level field is an error, while unknown keys inside `Labels` or `Data` render `<no value>`. Numbers in
`Data` behave as float64, as they do in Coder, which decodes the stored payload JSON before rendering.
`define`, `template` and `block` are not supported: no notification template uses them.

Laid out like Go's text/template: `lex` (text to tokens), `parse` (tokens to a tree), `values` (Go's value
semantics), `funcs` (the builtins), `exec` (walking the tree), `errors`; this module is the public API.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from server.notify.gotemplate.errors import TemplateError, TemplateRenderError, TemplateSyntaxError
from server.notify.gotemplate.exec import Exec
from server.notify.gotemplate.funcs import FUNC_NAMES
from server.notify.gotemplate.lex import syntax_error
from server.notify.gotemplate.parse import Parser
from server.notify.gotemplate.values import PAYLOAD_ZERO, Payload, StringMap

__all__ = [
    "GoTemplate",
    "TemplateError",
    "TemplateRenderError",
    "TemplateSyntaxError",
    "render",
    "render_actions",
]


class GoTemplate:
    """One parsed template. Parse once, render many times; rendering keeps no state on the object."""

    __slots__ = ("_nodes", "name", "source")

    def __init__(self, source: str, name: str = "") -> None:
        self.source = source
        self.name = name
        try:
            self._nodes = Parser(source, name, FUNC_NAMES).parse()
        except RecursionError:
            raise syntax_error(source, name, "template nested too deeply", 0) from None

    def render(self, data: Mapping[str, Any], *, base_url: str, current_year: int | None = None) -> str:
        """Execute against Coder's payload shape; `base_url` and `current_year` back the helper funcs."""
        year = current_year if current_year is not None else datetime.now(UTC).year
        fields: dict[str, Any] = {k: zero() for k, zero in PAYLOAD_ZERO.items()}
        fields.update(data)
        labels = fields.get("Labels")
        fields["Labels"] = StringMap(labels) if isinstance(labels, Mapping) else StringMap()
        if fields.get("Data") is None:
            fields["Data"] = {}
        root = Payload(fields)
        state = Exec(self.source, self.name, {"base_url": base_url, "current_year": str(year)})
        state.vars.append(["$", root])
        try:
            state.walk(root, self._nodes)
        except RecursionError:
            raise TemplateRenderError(f"template: {self.name}: data nested too deeply") from None
        return "".join(state.out)


@functools.lru_cache(maxsize=512)
def _compiled(source: str) -> GoTemplate:
    return GoTemplate(source, "text")


def render(source: str, data: Mapping[str, Any], *, base_url: str, current_year: int | None = None) -> str:
    """Render a title or body template as Coder's `render.GoTemplate` does, caching the parsed form."""
    return _compiled(source).render(data, base_url=base_url, current_year=current_year)


def render_actions(
    actions_json: str, data: Mapping[str, Any], *, base_url: str, current_year: int | None = None
) -> list[dict[str, str]]:
    """Render a template's actions (`[{"url": ..., "label": ...}]` jsonb text) into `[{"label", "url"}]`.

    Coder runs the whole jsonb text through the template engine and decodes the result. Rendering each
    decoded string instead gives the same output for every payload Coder accepts, and a label containing
    a quote cannot break the JSON.
    """
    try:
        actions = json.loads(actions_json)
    except ValueError as exc:
        raise TemplateRenderError(f"template actions are not valid JSON: {exc}") from None
    if not isinstance(actions, list):
        raise TemplateRenderError("template actions must be a JSON array")
    out: list[dict[str, str]] = []
    for action in actions:
        if not isinstance(action, dict):
            raise TemplateRenderError("each template action must be a JSON object")
        url, label = action.get("url", ""), action.get("label", "")
        if not isinstance(url, str) or not isinstance(label, str):
            raise TemplateRenderError("template action url and label must be strings")
        out.append(
            {
                "label": render(label, data, base_url=base_url, current_year=current_year),
                "url": render(url, data, base_url=base_url, current_year=current_year),
            }
        )
    return out
