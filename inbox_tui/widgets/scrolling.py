"""Keyboard scrolling by name, for screens whose j/k/g/G/pgup/pgdn move a scroll view (help, preview)."""

from __future__ import annotations

from textual.containers import ScrollableContainer


def scroll(view: ScrollableContainer, where: str) -> None:
    """Scroll `view`: down, up, home, end, page_down or page_up (anything else: nothing), at once."""
    moves = {
        "down": view.scroll_down,
        "up": view.scroll_up,
        "home": view.scroll_home,
        "end": view.scroll_end,
        "page_down": view.scroll_page_down,
        "page_up": view.scroll_page_up,
    }
    move = moves.get(where)
    if move is not None:
        move(animate=False)
