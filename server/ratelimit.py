"""Per-minute API rate limits the way Coder's httpmw.RateLimit (go-chi/httprate) applies them.

Keyed by user and endpoint when authenticated, else by client IP and endpoint; a sliding-window counter
(the previous window weighted by how much of it still overlaps), as httprate does.

The endpoint part of a key is the route pattern (`GET /api/v2/users/{user}`), never the raw path, so a
client cannot grow the table by varying the path; and the table holds at most `max_keys` keys, the least
recently used evicted first, so no mix of users, addresses and routes can grow it without bound either.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass

WINDOW_SECONDS = 60.0
# Keys are "<user or ip>|<method> <route pattern>": a few hundred bytes each with their counters, so the
# table stays within a few MB. Evicting a key forgets its counts (it starts afresh), which only ever errs
# on the side of letting a request through.
MAX_KEYS = 16_384


def _window_text(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


@dataclass(slots=True)
class Decision:
    """The outcome for one request, with the headers httprate sets."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: float
    retry_after: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        """X-Ratelimit-* headers, and Retry-After when refused."""
        out = [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(int(self.reset_at)).encode()),
        ]
        if not self.allowed:
            out.append((b"retry-after", str(self.retry_after).encode()))
        return out


class RateLimiter:
    """Sliding-window request counter over a bounded, least-recently-used table of keys."""

    def __init__(self, limit: int, window: float = WINDOW_SECONDS, max_keys: int = MAX_KEYS) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max(1, max_keys)
        # key -> [window index, count in the previous window, count in that window]
        self._table: OrderedDict[str, list[int]] = OrderedDict()

    @property
    def message(self) -> str:
        """Coder's 429 message."""
        return f"You've been rate limited for sending more than {self.limit} requests in {_window_text(self.window)}."

    def __len__(self) -> int:
        return len(self._table)

    def keys(self) -> list[str]:
        """The keys held, least recently used first (diagnostics and tests)."""
        return list(self._table)

    def hit(self, key: str, now: float | None = None) -> Decision:
        """Count one request for `key` and say whether it may proceed."""
        now = time.time() if now is None else now
        current = int(now // self.window)
        entry = self._table.get(key)
        if entry is None:
            entry = [current, 0, 0]
            self._table[key] = entry
            if len(self._table) > self.max_keys:
                self._table.popitem(last=False)
        else:
            self._table.move_to_end(key)
            if entry[0] != current:
                # Only the current and previous windows matter.
                entry[1] = entry[2] if entry[0] == current - 1 else 0
                entry[2] = 0
                entry[0] = current
        previous_count, current_count = entry[1], entry[2]
        elapsed = now - current * self.window
        weight = (self.window - elapsed) / self.window
        rate = previous_count * weight + current_count
        reset_at = (current + 1) * self.window
        if rate >= self.limit:
            retry_after = max(1, math.ceil(reset_at - now))
            return Decision(False, self.limit, 0, reset_at, retry_after)
        entry[2] = current_count + 1
        remaining = max(0, self.limit - math.ceil(rate) - 1)
        return Decision(True, self.limit, remaining, reset_at, 0)
