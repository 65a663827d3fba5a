"""What a running app shows, as lines of text (for layout assertions that a snapshot would only imply)."""

from __future__ import annotations

from typing import Any

from textual.app import App


def screen_lines(app: App[Any]) -> list[str]:
    """The current screen, one string per terminal row, exactly as composed (overlaps included)."""
    strips = app.screen._compositor.render_strips()
    return ["".join(segment.text for segment in strip) for strip in strips]
