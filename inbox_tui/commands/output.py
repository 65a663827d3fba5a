"""What every command prints: results on stdout, messages on stderr, both through the one sanitiser."""

from __future__ import annotations

import sys

from inbox_tui.text import terminal_safe


class CommandFailed(Exception):
    """A failure already worded for the user; printed on stderr, exit 1."""


def out(line: str) -> None:
    """One result line on stdout (server text in it is made terminal-safe)."""
    print(terminal_safe(line), file=sys.stdout, flush=True)


def err(message: str) -> None:
    """A message on stderr; messages quote server text, so nothing reaches the terminal unsanitised."""
    print(terminal_safe(message), file=sys.stderr, flush=True)
