"""The `inbox-tui` console script: `status` on a lean path, everything else through `inbox_tui.cli`.

A status bar runs `inbox-tui status` every few seconds. Importing `inbox_tui.cli` loads httpx and the
API models (tens of milliseconds), which the status line does not need, so this entry looks at the
command line first: when the command is `status` (after nothing but the global flags) it runs
`inbox_tui.commands.status` alone, on its lean path (`status_fast`) when it can. Anything else, `--help`
and every parse error included, goes to `inbox_tui.cli.main` unchanged.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

# The global flags that may come before the command, and whether they take a value.
_GLOBAL_FLAGS = {"--url": True, "--token": True, "--demo": False}


def is_status_command(argv: Sequence[str]) -> bool:
    """True when the first word after the global flags is `status`."""
    i = 0
    while i < len(argv):
        word = argv[i]
        name = word.split("=", 1)[0]
        if name not in _GLOBAL_FLAGS:
            return word == "status"
        i += 2 if _GLOBAL_FLAGS[name] and "=" not in word else 1
    return False


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `inbox-tui`; returns the exit status."""
    words = list(sys.argv[1:] if argv is None else argv)
    if is_status_command(words):
        from inbox_tui.commands.status_fast import run_fast

        code = run_fast(words)
        if code is not None:
            return code
        import argparse

        from inbox_tui.commands.status import DESCRIPTION, EPILOG, add_status_arguments, run_status

        parser = argparse.ArgumentParser(
            prog="inbox-tui status",
            description=DESCRIPTION,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.add_argument("command", choices=["status"], help=argparse.SUPPRESS)
        parser.add_argument("--url", help="deployment URL (default: CODER_URL, config, Coder CLI)")
        parser.add_argument("--token", help="session token (default: CODER_SESSION_TOKEN, ...)")
        parser.add_argument("--demo", action="store_true", help="the open demo inbox's server")
        add_status_arguments(parser)
        return run_status(parser.parse_args(words))
    from inbox_tui.cli import main as cli_main

    return cli_main(words)


if __name__ == "__main__":
    sys.exit(main())
