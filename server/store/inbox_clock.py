"""created_at of inbox rows is monotonic per database, whatever the wall clock does.

The list is newest first by (created_at, id), and a client catching up after a reconnect stops at the
first page that holds a notification it knows. A row stamped earlier than rows already delivered (the
wall clock stepped back, or another replica's clock lags) would sort below known ones and never be seen.
So a new row is stamped no earlier than 1 µs after the newest delivered row, and a clock found behind is
logged (at most once a minute).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Final

log = logging.getLogger(__name__)

ONE_US: Final = timedelta(microseconds=1)
WARN_EVERY_SECONDS: Final = 60.0


class InboxClock:
    """Stamps for one database's inbox rows; the caller holds `last` (in memory or under a row lock)."""

    def __init__(self) -> None:
        self._warned_at = float("-inf")

    def stamp(self, last: datetime | None, proposed: datetime) -> datetime:
        """`proposed`, or 1 µs after `last` when `proposed` is not later than it."""
        if last is None or proposed > last:
            return proposed
        if proposed < last:
            self._behind(last - proposed)
        return last + ONE_US

    def _behind(self, by: timedelta) -> None:
        now = time.monotonic()
        if now - self._warned_at < WARN_EVERY_SECONDS:
            return
        self._warned_at = now
        log.warning(
            "the wall clock is %.6f s behind the newest inbox notification: new notifications are stamped"
            " just after it so the inbox stays in order (check this host's clock)",
            by.total_seconds(),
        )
