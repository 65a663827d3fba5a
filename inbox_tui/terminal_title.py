"""The terminal's title: the unread count and the deployment, for tmux's status bar and window lists.

`(3) inbox · local` is written with OSC 2, which xterm-likes show in the window title and tmux keeps as
the pane title (`#T`, shown by tmux's default status line). The previous title is pushed on the
terminal's title stack first and popped on exit (xterm's CSI 22/23 t; terminals without a stack ignore
both). Every byte of the deployment name is cleaned: it comes from a URL the user typed, or a server.
"""

from __future__ import annotations

from inbox_tui.text import clean_line

PUSH_TITLE = "\x1b[22;0t"
POP_TITLE = "\x1b[23;0t"
_MAX_SOURCE = 40


def title_text(unread: int, source: str) -> str:
    """`(3) inbox · local`; `inbox · local` when nothing is unread."""
    place = clean_line(source)[:_MAX_SOURCE]
    name = f"inbox · {place}" if place else "inbox"
    return f"({unread}) {name}" if unread > 0 else name


def title_sequence(text: str) -> str:
    """OSC 2 setting the title to `text` (cleaned again: no escape or bell can end the sequence early)."""
    return f"\x1b]2;{clean_line(text)}\x07"
