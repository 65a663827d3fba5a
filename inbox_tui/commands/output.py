"""What the commands in this package share: CommandFailed, the exit statuses, and output through the one
sanitiser."""

from __future__ import annotations

import contextlib
import sys

from inbox_tui.text import terminal_safe

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
EXIT_HANGUP = 129


class CommandFailed(Exception):
    """A failure already worded for the user; printed on stderr, exit 1."""


def out(line: str) -> None:
    """One result line on stdout (server text in it is made terminal-safe)."""
    print(terminal_safe(line), file=sys.stdout, flush=True)


def err(message: str) -> None:
    """One message on stderr (messages quote server text: errors, ids, close reasons; all made terminal-safe)."""
    print(terminal_safe(message), file=sys.stderr, flush=True)


def safe_streams() -> None:
    """Titles may hold characters the terminal's encoding lacks: never crash on them."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(Exception):
                reconfigure(errors="replace")
