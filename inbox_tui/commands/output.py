"""What the commands in this package share: CommandFailed, and results printed through the one sanitiser."""

from __future__ import annotations

import sys

from inbox_tui.text import terminal_safe


class CommandFailed(Exception):
    """A failure already worded for the user; printed on stderr, exit 1."""


def out(line: str) -> None:
    """One result line on stdout (server text in it is made terminal-safe)."""
    print(terminal_safe(line), file=sys.stdout, flush=True)
