"""What `inbox-server tokens` prints and parses: lifetimes (Go durations) and the token table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from server.durations import DurationError, parse_go_duration
from server.records import ApiToken

LIFETIME_HELP = "Go duration (e.g. 720h, 1h30m); 0 = never expires (default 720h, 30 days)"


def parse_lifetime(text: str) -> timedelta | None:
    """`--lifetime`: a positive Go duration, or 0 for a token that never expires (None)."""
    try:
        lifetime = parse_go_duration(text.strip())
    except DurationError as exc:
        raise ValueError(f"--lifetime {text!r}: {exc}") from None
    if lifetime < timedelta(0):
        raise ValueError(f"--lifetime {text!r}: must not be negative")
    if lifetime == timedelta(0):
        return None
    if lifetime < timedelta(seconds=1):
        raise ValueError(f"--lifetime {text!r}: must be at least 1s (or 0 for no expiry)")
    return lifetime


def _when(value: datetime | None, never: str) -> str:
    if value is None:
        return never
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def token_table(tokens: Sequence[ApiToken], now: datetime) -> str:
    """ID, CREATED, EXPIRES, LAST USED: one row per token, columns aligned; expired ones say so."""
    rows = [("ID", "CREATED", "EXPIRES", "LAST USED")]
    for token in tokens:
        expires = _when(token.expires_at, "never")
        if token.expires_at is not None and token.expires_at < now:
            expires += " (expired)"
        rows.append((token.id, _when(token.created_at, "-"), expires, _when(token.last_used, "never")))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3] for row in rows)
