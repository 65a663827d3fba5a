"""Tracebacks logged at most once a minute per (route, exception type), the rest counted.

A client that can make a request fail can make it fail thousands of times a second; each traceback is a
couple of KB of log. So the first failure of a kind is logged with its traceback, later ones within the
interval only counted, and the count is printed with the next traceback of that kind.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextvars import ContextVar

INTERVAL_SECONDS = 60.0
MAX_KINDS = 1024  # (route, exception type) pairs remembered; routes are patterns, so this is plenty

# The route pattern of the request being served ("GET /api/v2/users/{user}"), set by the app.
current_route: ContextVar[str] = ContextVar("current_route", default="")


class ThrottledErrorLog:
    """Logs an exception's traceback at most once per `interval` for each (route, exception type)."""

    def __init__(
        self,
        interval: float = INTERVAL_SECONDS,
        max_kinds: int = MAX_KINDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.max_kinds = max_kinds
        self.clock = clock
        # (route, exception type) -> [when last logged, failures not logged since]
        self._kinds: dict[tuple[str, str], list[float]] = {}

    def exception(self, logger: logging.Logger, exc: BaseException, message: str, route: str | None = None) -> bool:
        """Log `message` with `exc`'s traceback unless one of its kind was logged within the interval.

        `route` defaults to the current request's route pattern. Returns whether it was logged.
        """
        route = current_route.get() if route is None else route
        kind = (route, f"{type(exc).__module__}.{type(exc).__qualname__}")
        now = self.clock()
        seen = self._kinds.get(kind)
        if seen is not None and now - seen[0] < self.interval:
            seen[1] += 1
            return False
        suppressed = int(seen[1]) if seen is not None else 0
        if seen is None and len(self._kinds) >= self.max_kinds:
            del self._kinds[next(iter(self._kinds))]  # the oldest kind
        self._kinds[kind] = [now, 0]
        where = f"{route}: " if route else ""
        more = f" ({suppressed} more of these since the last one logged)" if suppressed else ""
        logger.error("%s%s%s", where, message, more, exc_info=exc)
        return True


# One per process: the limit is on what the process writes to its log.
error_log = ThrottledErrorLog()
