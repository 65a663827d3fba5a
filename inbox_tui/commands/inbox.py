"""Opening the inbox: `inbox-tui` with no command, the one path that imports Textual.

`inbox_tui.entry` calls `main` directly when the command line holds nothing but the global flags (how the
inbox is opened nearly always), so opening it loads neither argparse nor the commands' code (issue 11: about
3 ms of start-up); `inbox_tui.cli` comes here through `run_inbox` after parsing any other line. The
connection resolution and the stop signals live here because every command shares them.
"""

from __future__ import annotations

import gc
import importlib
import signal
from typing import NoReturn

from inbox_tui.commands.output import (
    EXIT_FAILURE,
    EXIT_HANGUP,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    CommandFailed,
    err,
    safe_streams,
)
from inbox_tui.config import Config, ConfigError, load_config, secure_dirs, ui_state_path
from inbox_tui.connection import Connection, ResolveError, resolve
from inbox_tui.ui_state import UiState

# Signals that end a command the way closing the terminal or `kill` does; the embedded server must
# still be stopped, so they unwind like an exception instead of killing the process outright.
STOP_SIGNALS = {signal.SIGTERM: EXIT_TERMINATED, signal.SIGHUP: EXIT_HANGUP}


def exit_on_signal(signum: int, frame: object) -> NoReturn:
    """A handler for STOP_SIGNALS: unwind with the signal's exit status."""
    raise SystemExit(STOP_SIGNALS.get(signal.Signals(signum), EXIT_FAILURE))


def connect(
    url: str | None,
    token: str | None,
    *,
    demo: bool = False,
    long_lived: bool = False,
    config: Config | None = None,
) -> Connection:
    """The connection for these flags (inbox_tui.connection.resolve), its failures worded for the user."""
    try:
        return resolve(url, token, demo=demo, long_lived=long_lived, config=config)
    except (ResolveError, ConfigError) as exc:
        raise CommandFailed(str(exc)) from exc


def run_inbox(url: str | None, token: str | None, *, demo: bool = False) -> int:
    """Open the inbox until the user quits; returns the exit status (CommandFailed when it cannot connect)."""
    # The config file and the remembered UI state are read once, here, for the connection, the first page
    # and the app alike.
    try:
        config = load_config()
    except ConfigError as exc:
        raise CommandFailed(str(exc)) from exc
    connection = connect(url, token, demo=demo, long_lived=True, config=config)
    remembered = UiState.load(ui_state_path(demo=demo))
    # issue 11: the first page comes over a plain connection in a thread while Textual loads (None: httpx).
    from inbox_tui.first_page import FirstPage

    first_page = FirstPage.start(connection, remembered.filters)
    previous = {sig: signal.signal(sig, exit_on_signal) for sig in STOP_SIGNALS}
    # Start-up (importing Textual and the app, building and painting the inbox) makes hundreds of thousands
    # of long-lived objects and next to no garbage: collector passes over them cost ~15 ms before the first
    # frame for nothing. The collector rests until the app has painted the first page, then it freezes what
    # exists and turns the collector back on (collector_paused).
    collecting = gc.isenabled()
    gc.disable()
    try:
        # Imported by name at run time: Textual loads only when the inbox opens.
        run_app = importlib.import_module("inbox_tui.app").run_app
        result = run_app(
            connection,
            demo=demo,
            config=config,
            collector_paused=collecting,
            first_page=first_page,
            remembered=remembered,
        )
        return result if isinstance(result, int) else EXIT_OK
    finally:
        if collecting:
            gc.enable()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        connection.close()


def main(url: str | None = None, token: str | None = None, *, demo: bool = False) -> int:
    """`inbox-tui [--url URL] [--token TOKEN] [--demo]`, as `inbox_tui.cli.main` runs it; the exit status."""
    safe_streams()
    secure_dirs()  # issue 12: our directories and files are private, also ones older versions made
    try:
        return run_inbox(url, token, demo=demo)
    except CommandFailed as exc:
        err(str(exc))
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
