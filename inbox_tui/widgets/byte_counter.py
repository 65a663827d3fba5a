"""A live "used / limit bytes" counter for fields the server measures in UTF-8 bytes, not characters."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


def byte_length(text: str) -> int:
    """UTF-8 length as Go's `len(string)` counts it (lone surrogates count as their 3 encoded bytes)."""
    return len(text.encode("utf-8", "surrogatepass"))


class ByteCounter(Static):
    """Shows how many bytes of `limit` a field uses; turns amber near the limit and red past it."""

    DEFAULT_CSS = """
    ByteCounter {
        width: auto;
        height: 1;
        color: $text-muted;
        &.-near { color: $text-warning; }
        &.-over { color: $text-error; text-style: bold; }
    }
    """

    NEAR = 0.9  # from 90 % of the limit on, the counter warns

    def __init__(self, limit: int, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes, markup=False)
        self.limit = limit
        self.used = 0
        self.count("")

    @property
    def over(self) -> bool:
        """True when the text is longer than the server accepts."""
        return self.used > self.limit

    def count(self, text: str) -> int:
        """Count `text`, redraw, and return its byte length."""
        self.used = byte_length(text)
        self.set_class(self.used > self.limit, "-over")
        self.set_class(self.NEAR * self.limit <= self.used <= self.limit, "-near")
        self.update(Content(f"{self.used:,} / {self.limit:,} bytes"))
        return self.used
