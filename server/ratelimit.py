"""Per-minute API rate limits the way Coder's httpmw.RateLimit (go-chi/httprate) applies them.

Keyed by user and endpoint when authenticated, else by client IP and endpoint; a sliding-window counter
(the previous window weighted by how much of it still overlaps), as httprate does.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

WINDOW_SECONDS = 60.0


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
    """Sliding-window request counter; memory is bounded by pruning windows that have passed."""

    def __init__(self, limit: int, window: float = WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window
        self._counts: dict[tuple[str, int], int] = {}
        self._last_prune = 0

    @property
    def message(self) -> str:
        """Coder's 429 message."""
        return f"You've been rate limited for sending more than {self.limit} requests in {_window_text(self.window)}."

    def hit(self, key: str, now: float | None = None) -> Decision:
        """Count one request for `key` and say whether it may proceed."""
        now = time.time() if now is None else now
        current = int(now // self.window)
        if current != self._last_prune:
            # Only the current and previous windows matter; drop everything older.
            self._counts = {k: v for k, v in self._counts.items() if k[1] >= current - 1}
            self._last_prune = current
        previous_count = self._counts.get((key, current - 1), 0)
        current_count = self._counts.get((key, current), 0)
        elapsed = now - current * self.window
        weight = (self.window - elapsed) / self.window
        rate = previous_count * weight + current_count
        reset_at = (current + 1) * self.window
        if rate >= self.limit:
            retry_after = max(1, math.ceil(reset_at - now))
            return Decision(False, self.limit, 0, reset_at, retry_after)
        self._counts[(key, current)] = current_count + 1
        remaining = max(0, self.limit - math.ceil(rate) - 1)
        return Decision(True, self.limit, remaining, reset_at, 0)
