"""A one-or-more-line status message for forms: busy, done, warning or an API error, said in place.

Text from the server is never parsed as Textual markup.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from textual.content import Content
from textual.widgets import Static

from inbox_tui.api.errors import describe_error

Kind = Literal["info", "busy", "success", "warning", "error"]
KINDS: tuple[Kind, ...] = ("info", "busy", "success", "warning", "error")


class StatusLine(Static):
    """Where a form says what is happening; empty lines take no room."""

    DEFAULT_CSS = """
    StatusLine {
        height: auto;
        width: 1fr;
        &.-empty { display: none; }
        &.-info { color: $text-muted; }
        &.-busy { color: $text-muted; text-style: italic; }
        &.-success { color: $text-success; }
        &.-warning { color: $text-warning; }
        &.-error { color: $text-error; }
    }
    """

    KIND_CLASSES: ClassVar[dict[str, str]] = {kind: f"-{kind}" for kind in KINDS}

    def __init__(self, text: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes, markup=False)
        self.text = ""
        self.kind: Kind = "info"
        self.show(text)

    def show(self, text: str, kind: Kind = "info") -> None:
        """Show `text` (empty hides the line)."""
        self.text = text
        self.kind = kind
        for name, css_class in self.KIND_CLASSES.items():
            self.set_class(name == kind, css_class)
        self.set_class(not text, "-empty")
        self.update(Content(text))

    def show_error(self, error: BaseException, prefix: str = "") -> None:
        """Show an error as Coder words it, after an optional `prefix` line of our own."""
        text = describe_error(error)
        self.show(f"{prefix}\n{text}" if prefix else text, "error")

    def clear(self) -> None:
        """Say nothing."""
        self.show("")
