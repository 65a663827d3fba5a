"""Turning API text into safe, short terminal text for the widgets: control characters, snippets, glyphs.

Everything the server sends is untrusted: it never goes through Textual markup, and control characters
(escape sequences, bidi overrides) are removed before anything is drawn.
"""

from __future__ import annotations

from functools import lru_cache

from inbox_tui.api.models import ICON_ACCOUNT, ICON_OTHER, ICON_TEMPLATE, ICON_WORKSPACE
from inbox_tui.text import clean_line as text_clean_line
from inbox_tui.text import markdown_to_text, terminal_safe

# Glyphs for Coder's icon constants (the web UI uses lucide Laptop, User, LayoutTemplate, Info).
# All single-cell, text-presentation characters.
ICON_GLYPHS: dict[str, str] = {
    ICON_WORKSPACE: "▣",
    ICON_ACCOUNT: "☺",
    ICON_TEMPLATE: "◈",
    ICON_OTHER: "◇",
    # Names used before Coder PR #17115 (spec §12).
    "DEFAULT_WORKSPACE_ICON": "▣",
    "DEFAULT_ACCOUNT_ICON": "☺",
    "DEFAULT_TEMPLATE_ICON": "◈",
    "DEFAULT_OTHER_ICON": "◇",
}
URL_ICON_GLYPH = "◎"
UNKNOWN_ICON_GLYPH = "◇"


def clean_line(text: str) -> str:
    """One line of display text: escape sequences and control characters removed, whitespace collapsed."""
    return text_clean_line(text)


def clean_block(text: str) -> str:
    """Multi-line display text (markdown bodies): escape sequences and controls removed, line breaks kept."""
    return terminal_safe(text, multiline=True)


@lru_cache(maxsize=4096)
def snippet(markdown: str, limit: int = 240) -> str:
    """A one-line preview of a notification body, markdown stripped."""
    text = markdown_to_text(markdown[: limit * 4])
    return text if len(text) <= limit else text[: limit - 1] + "…"


def icon_glyph(icon: str) -> str:
    """One cell standing for the notification's icon; URL icons get a generic glyph."""
    glyph = ICON_GLYPHS.get(icon)
    if glyph is not None:
        return glyph
    if icon.startswith(("http://", "https://", "/")):
        return URL_ICON_GLYPH
    return UNKNOWN_ICON_GLYPH
