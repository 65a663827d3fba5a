"""Start and stop as operators expect: the effective configuration logged at start, and signals that drain.

The first SIGTERM or SIGINT stops accepting connections, lets in-flight requests finish (bounded by
`--graceful-shutdown-timeout`), closes watchers with 1001 and flushes the store; the process then exits 0.
A second signal exits at once. (uvicorn's own handling re-raises the signal after a graceful stop, so
the exit status was -15, and only a second SIGINT forced the exit.)
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Generator
from types import FrameType

import uvicorn

from server.config import ServerConfig
from server.options import summary

log = logging.getLogger("server.lifecycle")

HANDLED = (signal.SIGINT, signal.SIGTERM)


def log_configuration(config: ServerConfig) -> None:
    """The effective configuration at info level, one line per help group, secrets masked."""
    for group, pairs in summary(config):
        text = " ".join(f"{name}={value or '(unset)'}" for name, value in pairs)
        log.info("configuration %s: %s", group.lower(), text)


class GracefulServer(uvicorn.Server):
    """uvicorn's server with our signal handling (see the module docstring)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Install the handlers for the life of `serve()`; restore the previous ones afterwards."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self._on_signal) for sig in HANDLED}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.should_exit:
            # A second signal: the operator means now. Nothing is awaited, not even log handlers.
            os.write(2, f"inbox-server: second {name}: exiting at once\n".encode())
            os._exit(128 + signum)
        log.info("%s: shutting down (finishing in-flight requests; a second signal exits at once)", name)
        self.should_exit = True
