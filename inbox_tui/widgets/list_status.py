"""The inbox list's status line: what the list is doing (loading older pages, a count being typed, rows
picked for a bulk action) on the left, and where the highlight is (`12/50+`) on the right.

One line, drawn to fit the pane: the position is always shown whole, the rest is cut with an ellipsis.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget


def position_text(highlighted: int | None, count: int, more: bool) -> str:
    """`12/320`: the highlighted row's number over the rows listed; `12/50+` while older pages remain
    (the total is then only known as a lower bound). Empty when there are no rows."""
    if count == 0:
        return ""
    row = "-" if highlighted is None else str(highlighted + 1)
    return f"{row}/{count}{'+' if more else ''}"


def fit_line(left: str, right: str, width: int) -> str:
    """`left` and `right` on one line of `width` cells; the right part wins, the left is cut with "…"."""
    if width <= 0:
        return ""
    right = right if cell_len(right) <= width else right[-width:]
    room = width - cell_len(right) - (1 if right else 0)
    if room <= 0:
        return set_cell_size(right, width)
    if cell_len(left) > room:
        left = set_cell_size(left, room - 1) + "…" if room > 1 else set_cell_size(left, room)
    gap = width - cell_len(left) - cell_len(right)
    return left + " " * gap + right


class ListStatus(Widget):
    """One line under the list: activity and selection on the left, the position on the right."""

    DEFAULT_CSS = """
    ListStatus {
        height: 1;
        width: 1fr;
        color: $text-muted;
        padding: 0 1;
        &.-empty { display: none; }
    }
    """

    activity: reactive[str] = reactive("")
    """What the list is doing now ("Loading older… 75 rows · esc stops"), or empty."""
    pending: reactive[str] = reactive("")
    """A count prefix being typed ("5"), or empty."""
    selected: reactive[int] = reactive(0)
    """Rows picked for a bulk action."""
    position: reactive[str] = reactive("")
    """Where the highlight is (`12/50+`), or empty."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._update_class()

    @property
    def left_text(self) -> str:
        """The left part as drawn before fitting (tests read it)."""
        parts = []
        if self.pending:
            parts.append(self.pending)
        if self.selected:
            parts.append(f"{self.selected} selected")
        if self.activity:
            parts.append(self.activity)
        return " · ".join(parts)

    @property
    def text(self) -> str:
        """The whole line at the current width."""
        return fit_line(self.left_text, self.position, self.content_region.width or 80)

    def _update_class(self) -> None:
        self.set_class(not (self.left_text or self.position), "-empty")

    def watch_activity(self) -> None:
        self._update_class()

    def watch_pending(self) -> None:
        self._update_class()

    def watch_selected(self) -> None:
        self._update_class()

    def watch_position(self) -> None:
        self._update_class()

    def render(self) -> Content:
        # Plain text (Content never reads markup): the parts are ours, but keep it that way.
        return Content(fit_line(self.left_text, self.position, self.content_region.width))
