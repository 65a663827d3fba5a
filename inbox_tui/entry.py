"""The `inbox-tui` console script: the inbox and `status` on lean paths, everything else through `inbox_tui.cli`.

A status bar runs `inbox-tui status` every few seconds, and the inbox is opened with nothing but the global
flags nearly always. Importing `inbox_tui.cli` loads argparse and every command's code, which neither
needs, so this entry looks at the command line first: only global flags open the inbox through
`inbox_tui.commands.inbox` (issue 11: start-up); `status` after nothing but the global flags runs
`inbox_tui.commands.status` alone, on its lean path (`status_fast`) when it can. Anything else (`--help`,
an abbreviated or repeated flag, a flag without its value, every parse error) goes to `inbox_tui.cli.main`
unchanged, which parses it with argparse and says what is wrong.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

# The global flags that may come before the command, and whether they take a value.
_GLOBAL_FLAGS = {"--url": True, "--token": True, "--demo": False}


class CommandLine:
    """The global flags and the words after them (the command and its arguments, if any).

    A plain class: a NamedTuple would load `typing`, ~5 ms of every `inbox-tui status`.
    """

    __slots__ = ("demo", "rest", "token", "url")

    def __init__(self, url: str | None, token: str | None, demo: bool, rest: tuple[str, ...]) -> None:
        """The flags as given (None: not given)."""
        self.url = url
        self.token = token
        self.demo = demo
        self.rest = rest


def global_flags(argv: Sequence[str]) -> CommandLine | None:
    """The global flags at the start of `argv` and the words after them; None when they need argparse.

    `--url U`, `--url=U`, `--token T`, `--token=T` and `--demo`; a repeated flag's last value wins, as with
    argparse. A flag without its value (or followed by another option) is argparse's to report.
    """
    values: dict[str, str] = {}
    demo = False
    i = 0
    while i < len(argv):
        name, has_value, value = argv[i].partition("=")
        if name not in _GLOBAL_FLAGS:
            break
        i += 1
        if not _GLOBAL_FLAGS[name]:
            if has_value:
                return None
            demo = True
            continue
        if not has_value:
            if i >= len(argv) or argv[i].startswith("-"):
                return None
            value = argv[i]
            i += 1
        values[name] = value
    return CommandLine(values.get("--url"), values.get("--token"), demo, tuple(argv[i:]))


def is_status_command(argv: Sequence[str]) -> bool:
    """True when the first word after the global flags is `status`."""
    parsed = global_flags(argv)
    return parsed is not None and parsed.rest[:1] == ("status",)


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
    line = global_flags(words)
    if line is not None and not line.rest:
        from inbox_tui.commands.inbox import main as inbox_main

        return inbox_main(line.url, line.token, demo=line.demo)
    from inbox_tui.cli import main as cli_main

    return cli_main(words)


if __name__ == "__main__":
    sys.exit(main())
