"""Text from a server made safe for a terminal: the one sanitiser the CLI and the TUI share.

Everything a server sends (titles, messages, error details, validations, usernames, non-JSON error
bodies, close reasons) is untrusted. A string like `boom \\x1b]52;c;...\\x07 \\x1b[2J` would write the
clipboard and clear the screen if printed raw. `terminal_safe` removes:

- escape sequences whole, 7-bit and 8-bit: CSI (`ESC [`, `0x9b`), OSC (`ESC ]`, `0x9d`, OSC 52 included),
  DCS, SOS, PM and APC strings up to their terminator (or the end of the text), and the short `ESC x` forms;
- every other C0 and C1 control character and DEL (newline and tab are kept in multi-line text; a lone
  carriage return, which would let text overwrite its own line, becomes a newline);
- bidi overrides, embeddings, isolates and marks, which reorder what is shown.

No Textual here (issue 10 gathers the other text helpers in this module later).
"""

from __future__ import annotations

import re

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
