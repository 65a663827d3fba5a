"""Deployment URLs: their one normal form, and whether they are on this machine.

Apart from the HTTP client so that what needs only URLs (connection resolution, `inbox-tui status`)
does not load httpx; `inbox_tui.api.client` re-exports both.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit


def normalize_url(url: str) -> str:
    """The deployment's base URL: scheme added if missing, no trailing slash, no `/api/v2` suffix."""
    text = url.strip()
    if not text:
        raise ValueError("the server URL is empty")
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url!r}")
    path = parts.path.rstrip("/")
    if path.endswith("/api/v2"):
        path = path[: -len("/api/v2")]
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def is_loopback_url(url: str) -> bool:
    """True for http(s) URLs on localhost / 127.0.0.0/8 / ::1."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
