"""The errors of the template engine, worded as Go's text/template words them."""

from __future__ import annotations


class TemplateError(Exception):
    """Base class of the errors this module raises."""


class TemplateSyntaxError(TemplateError):
    """The template source does not parse. The message reads like Go's, with line and column."""

    def __init__(self, message: str, *, name: str, line: int, column: int, offset: int) -> None:
        super().__init__(f"template: {name}:{line}:{column}: {message}")
        self.message = message
        self.name = name
        self.line = line
        self.column = column
        self.offset = offset


class TemplateRenderError(TemplateError):
    """Executing the template failed, e.g. comparing a number with a string or ranging over a string."""
