"""The compact footer every screen but the inbox uses (the inbox's own gets the same fix from app.tcss)."""

from __future__ import annotations

from textual.widgets import Footer


class KeyFooter(Footer):
    """Textual's compact footer without the stray column right of `^p Commands`.

    The compact footer gives every key `margin-right: 1`, the command-palette key too; docked right, that
    margin leaves the last column to whatever key the scrolling part put there (`^p Commandsa` at 40
    columns).
    """

    DEFAULT_CSS = """
    KeyFooter.-compact FooterKey.-command-palette { margin-right: 0; }
    """

    def __init__(self) -> None:
        super().__init__(compact=True)
