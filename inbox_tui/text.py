"""Text from a server made safe for a terminal: the one sanitiser the CLI and the TUI share.

Everything a server sends (titles, messages, error details, validations, usernames, non-JSON error
bodies, close reasons) is untrusted. A string like `boom \\x1b]52;c;...\\x07 \\x1b[2J` would write the
clipboard and clear the screen if printed raw. `terminal_safe` removes:

- escape sequences whole, 7-bit and 8-bit: CSI (`ESC [`, `0x9b`), OSC (`ESC ]`, `0x9d`, OSC 52 included),
  DCS, SOS, PM and APC strings up to their terminator (or the end of the text), and the short `ESC x` forms;
- every other C0 and C1 control character and DEL (newline and tab are kept in multi-line text; a lone
  carriage return, which would let text overwrite its own line, becomes a newline);
- bidi overrides, embeddings, isolates and marks, which reorder what is shown.

It also holds the other text helpers the CLI, the TUI and the alerts share: markdown to plain text
(`markdown_to_plain` keeps blocks and link targets, `markdown_to_text` is one line for previews) and
relative ages. No Textual here.
"""

from __future__ import annotations

import re
from datetime import datetime

# One alternation, tried left to right at each ESC or C1 introducer.
_SEQUENCE = re.compile(
    # CSI: parameters, intermediates, one final byte (missing when the text was cut short).
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    # OSC, DCS, SOS, PM, APC: a string up to BEL or ST (ESC \ or 0x9c), or to the end of the text.
    r"|(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    # Any other escape: intermediates and a final byte (ESC c, ESC ( B, ...), or a lone ESC.
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"
)
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROLS = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
_WHITESPACE_CONTROLS = "\t\n\r\v\f"

# Multi-line: newline and tab stay, a carriage return becomes a newline, the rest goes.
_MULTILINE = {c: None for c in _CONTROLS} | {ord(c): None for c in _BIDI} | {0x09: 0x09, 0x0A: 0x0A, 0x0D: 0x0A}
# One line: whitespace controls become spaces, the rest goes.
_ONE_LINE = {c: None for c in _CONTROLS} | {ord(c): None for c in _BIDI} | {ord(c): 0x20 for c in _WHITESPACE_CONTROLS}
_RUNS = re.compile(r"\s+")


def _is_plain(text: str) -> bool:
    return text.isprintable() and not any(c in text for c in _BIDI)


def terminal_safe(text: str, *, multiline: bool = True) -> str:
    """`text` without escape sequences, control characters (but newline and tab) or bidi controls.

    With `multiline=False`, newlines and tabs become spaces too (nothing else changes).
    """
    if _is_plain(text):
        return text
    if "\x1b" in text or any("\x90" <= c <= "\x9f" for c in text):
        text = _SEQUENCE.sub("", text)
    if multiline:
        return text.replace("\r\n", "\n").translate(_MULTILINE)
    return text.translate(_ONE_LINE)


def clean_line(text: str) -> str:
    """One line of display text: `terminal_safe`, whitespace runs collapsed, trimmed."""
    if _is_plain(text) and "  " not in text and text == text.strip():
        return text
    return _RUNS.sub(" ", terminal_safe(text, multiline=False)).strip()


def markdown_to_plain(text: str) -> str:
    """A close approximation of Coder's markdown -> plaintext (used for items caught up after a reconnect).

    Live frames asked with `format=plaintext` are already converted by the server; items fetched with the
    list endpoint are markdown, so they are converted here to look alike.
    """
    from markdown_it import MarkdownIt

    blocks: list[str] = []
    for token in MarkdownIt("commonmark").parse(text):
        if token.type in ("code_block", "fence"):
            blocks.append(token.content.rstrip("\n"))
        if token.type != "inline":
            continue
        parts: list[str] = []
        hrefs: list[str] = []
        for child in token.children or ():
            if child.type in ("text", "code_inline"):
                parts.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                parts.append("\n")
            elif child.type == "link_open":
                hrefs.append(str(child.attrs.get("href", "")))
            elif child.type == "link_close" and hrefs:
                href = hrefs.pop()
                parts.append(f" ({href})" if href else "")
            elif child.type == "image":
                parts.append(f"{child.content} ({child.attrs.get('src', '')})")
        blocks.append("".join(parts))
    return "\n\n".join(b for b in blocks if b.strip()).strip()


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


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def relative_time(created: datetime, now: datetime, *, iso_dates: bool = False) -> str:
    """A short age ("now", "5m", "3h", "2d", "3w", then "Mar 4" or "2024-03-04").

    With `iso_dates` (the CLI's greppable lines), anything a month old or more is "2024-03-04".
    """
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
    if iso_dates:
        return local.strftime("%Y-%m-%d")
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
