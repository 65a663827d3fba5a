"""Go's time.Time on the wire: RFC 3339 parsed into aware datetimes, and written back the same way.

Apart from the models so that both model modules (the first frame's and the rest, loaded on first use)
share it without importing each other.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def parse_time(value: Any) -> datetime | None:
    """Parse Go's RFC 3339 timestamps (nanoseconds allowed) into aware datetimes; None for null/empty."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # Go may send up to 9 fractional digits; Python takes at most 6.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = ""
        i = 0
        while i < len(rest) and rest[i].isdigit():
            digits += rest[i]
            i += 1
        text = f"{head}.{(digits + '000000')[:6]}{rest[i:]}"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def format_time(value: datetime) -> str:
    """Format like Go's time.Time JSON for UTC: RFC 3339 with microseconds and a Z."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
