"""Turning API text into safe, short terminal text: control characters, markdown snippets, glyphs, times.

Everything the server sends is untrusted: it never goes through Textual markup, and control characters
(escape sequences, bidi overrides) are removed before anything is drawn.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from inbox_tui.api.models import ICON_ACCOUNT, ICON_OTHER, ICON_TEMPLATE, ICON_WORKSPACE
from inbox_tui.text import clean_line as text_clean_line
from inbox_tui.text import terminal_safe

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


# Markdown syntax a one-line preview does without. A full parser (markdown-it) is left to the preview
# pane: importing it costs more start-up time than the whole list needs.
_FENCE = re.compile(r"^\s*(```|~~~).*$", re.M)
_HTML_TAG = re.compile(r"</?[A-Za-z][^>\n]*>")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_LINE_MARKERS = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+(?=\S)|\d{1,9}[.)]\s+(?=\S))", re.M)
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$", re.M)
_EMPHASIS = re.compile(
    r"(\*\*|__|~~)(?=\S)(.+?)(?<=\S)\1|(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?!\w)|(?<![\w_])_(?=\S)((?:[^_\n]|(?<=\w)_(?=\w))+?)(?<=\S)_(?!\w)"
)
_CODE = re.compile(r"`+([^`]*)`+")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|])")


def _emphasis(match: re.Match[str]) -> str:
    return match.group(2) or match.group(3) or match.group(4) or ""


def markdown_to_text(markdown: str) -> str:
    """The readable words of a markdown body on one line (no markers, links as their text)."""
    text = _FENCE.sub(" ", markdown)
    text = _RULE.sub(" ", text)
    text = _CODE.sub(lambda m: m.group(1), text)
    text = _IMAGE.sub(lambda m: m.group(1), text)
    text = _LINK.sub(lambda m: m.group(1), text)
    text = _REF_LINK.sub(lambda m: m.group(1), text)
    text = _AUTOLINK.sub(lambda m: m.group(1), text)
    text = _HTML_TAG.sub("", text)
    text = _LINE_MARKERS.sub("", text)
    for _ in range(3):  # nested emphasis, e.g. ***x*** or **_x_**
        replaced = _EMPHASIS.sub(_emphasis, text)
        if replaced == text:
            break
        text = replaced
    text = _ESCAPE.sub(lambda m: m.group(1), text)
    return clean_line(text)


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


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def relative_time(created: datetime, now: datetime) -> str:
    """A short age for the list ("now", "5m", "3h", "2d", "3w", "Mar 4", "2024-03-04")."""
    seconds = (now - created).total_seconds()
    if seconds < 45:
        return "now"
    minutes = seconds / 60
    if minutes < 59.5:
        return f"{max(1, round(minutes))}m"
    hours = minutes / 60
    if hours < 23.5:
        return f"{round(hours)}h"
    days = hours / 24
    if days < 6.5:
        return f"{round(days)}d"
    if days < 30:
        return f"{round(days / 7)}w"
    local = created.astimezone()
    if local.year == now.astimezone().year or days < 300:
        return f"{_MONTHS[local.month - 1]} {local.day}"
    return local.strftime("%Y-%m-%d")


def relative_time_long(created: datetime, now: datetime) -> str:
    """A longer age for the preview, as the web inbox says it ("5 minutes ago")."""
    seconds = (now - created).total_seconds()
    if seconds < 45:
        return "a few seconds ago"
    minutes = round(seconds / 60)
    if minutes < 2:
        return "a minute ago"
    if minutes < 45:
        return f"{minutes} minutes ago"
    hours = round(seconds / 3600)
    if hours < 2:
        return "an hour ago"
    if hours < 22:
        return f"{hours} hours ago"
    days = round(seconds / 86400)
    if days < 2:
        return "a day ago"
    if days < 26:
        return f"{days} days ago"
    months = round(days / 30.4)
    if months < 2:
        return "a month ago"
    if days < 320:
        return f"{months} months ago"
    years = round(days / 365)
    return "a year ago" if years < 2 else f"{years} years ago"
