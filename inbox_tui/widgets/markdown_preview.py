"""A Markdown preview that follows an editor: re-rendered a moment after typing pauses, not per key."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import Markdown, Static

from inbox_tui.widgets.render import clean_block


class MarkdownPreview(VerticalScroll):
    """The message as the inbox will show it (Markdown, control characters removed)."""

    DEFAULT_CSS = """
    MarkdownPreview {
        padding: 0 1;
        background: $surface;
        & > #preview-empty { color: $text-muted; text-style: italic; }
        & > Markdown { margin: 0; padding: 0; background: transparent; }
    }
    """

    DELAY = 0.12  # seconds of quiet before re-rendering

    def __init__(self, text: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.can_focus = False
        self.text = text
        self.shown: str | None = None  # the text the Markdown widget last finished rendering
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static("Nothing to preview yet.", id="preview-empty", markup=False)
        yield Markdown(clean_block(self.text))

    def on_mount(self) -> None:
        self.shown = self.text
        self.query_one("#preview-empty", Static).display = not self.text.strip()

    def set_text(self, text: str) -> None:
        """Follow the editor; the preview catches up once typing pauses."""
        self.text = text
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(self.DELAY, self._render_now)

    async def _render_now(self) -> None:
        self._timer = None
        text = self.text
        await self.query_one(Markdown).update(clean_block(text))
        self.query_one("#preview-empty", Static).display = not text.strip()
        self.shown = text
