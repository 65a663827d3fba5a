"""Go's time.ParseDuration, for `--lifetime 720h` and friends (Coder's flags take Go durations)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

# Nanoseconds per unit, as in Go's unitMap.
_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}
_TERM = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


class DurationError(ValueError):
    """Not a Go duration; the message is Go's."""


def parse_go_duration(text: str) -> timedelta:
    """A Go duration string ("720h", "1h30m", "1.5h", "90s", "0") as a timedelta (microsecond precision)."""
    rest = text
    sign = 1
    if rest[:1] in ("-", "+"):
        sign = -1 if rest[0] == "-" else 1
        rest = rest[1:]
    if rest == "0":
        return timedelta(0)
    if not rest:
        raise DurationError(f'time: invalid duration "{text}"')
    total = Decimal(0)
    pos = 0
    while pos < len(rest):
        match = _TERM.match(rest, pos)
        if match is None:
            if re.match(r"\d*\.?\d*$", rest[pos:]):
                raise DurationError(f'time: missing unit in duration "{text}"')
            raise DurationError(f'time: invalid duration "{text}"')
        total += Decimal(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    return sign * timedelta(microseconds=int(total / 1000))
