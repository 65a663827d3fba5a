"""Fault-injection points for tests (issue 12): a process dies where a crash would hurt most.

`INBOX_SERVER_TEST_FAULT=<point>` in a server's environment makes it SIGKILL itself the first time it
reaches that point. Unset (always, outside tests) a point costs one comparison.
"""

from __future__ import annotations

import os
import signal
from typing import Final

FAULT_ENV: Final = "INBOX_SERVER_TEST_FAULT"
# The inbox rows of a delivery are written and their fan-out queued, not yet committed (PostgreSQL).
INBOX_ROWS_WRITTEN: Final = "inbox-rows-written"
# A batch of messages is leased and nothing is delivered yet.
MESSAGES_LEASED: Final = "messages-leased"

_ARMED: Final = os.environ.get(FAULT_ENV, "")


def fault_point(name: str) -> None:
    """Die here, as `kill -9` would, when the environment arms this point (tests only)."""
    if _ARMED and name == _ARMED:
        os.kill(os.getpid(), signal.SIGKILL)
