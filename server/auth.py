"""Session tokens as Coder makes them: `<10-char id>-<22-char secret>`, only SHA-256 of the secret stored."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import string
import time
import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl

from server.errors import unauthorized
from server.records import ApiToken, User, now_utc
from server.store.base import Store

COOKIE_NAME = "coder_session_token"
HEADER_NAME = b"coder-session-token"
KEY_ID_LENGTH = 10
KEY_SECRET_LENGTH = 22
DEFAULT_TOKEN_LIFETIME = timedelta(days=30)  # Coder's default for `coder tokens create`
LAST_USED_INTERVAL = timedelta(minutes=1)  # last_used is written at most this often per token
_ALPHABET = string.ascii_letters + string.digits

log = logging.getLogger(__name__)


def hash_secret(secret: str) -> bytes:
    """The stored form of a token secret."""
    return hashlib.sha256(secret.encode()).digest()


def generate_token(user_id: uuid.UUID, lifetime: timedelta | None = DEFAULT_TOKEN_LIFETIME) -> tuple[str, ApiToken]:
    """A new token string and the row to store for it; a `lifetime` of None never expires."""
    key_id = "".join(secrets.choice(_ALPHABET) for _ in range(KEY_ID_LENGTH))
    secret = "".join(secrets.choice(_ALPHABET) for _ in range(KEY_SECRET_LENGTH))
    now = now_utc()
    row = ApiToken(
        id=key_id,
        user_id=user_id,
        hashed_secret=hash_secret(secret),
        created_at=now,
        expires_at=None if lifetime is None else now + lifetime,
    )
    return f"{key_id}-{secret}", row


def go_time(value: datetime) -> str:
    """Go's time.Time.String() of a UTC time: `2006-01-02 15:04:05.999999 +0000 UTC`."""
    value = value.astimezone(UTC)
    fraction = f".{value.microsecond:06d}".rstrip("0").rstrip(".")
    return value.strftime("%Y-%m-%d %H:%M:%S") + fraction + " +0000 UTC"


def split_token(token: str) -> tuple[str, str]:
    """Split `<id>-<secret>`, with Coder's messages for malformed tokens."""
    parts = token.split("-")
    if len(parts) != 2:
        raise ValueError(f"incorrect amount of API key parts, expected 2 got {len(parts)}")
    key_id, secret = parts
    if len(key_id) != KEY_ID_LENGTH:
        raise ValueError(f"invalid API key ID length, expected {KEY_ID_LENGTH} got {len(key_id)}")
    if len(secret) != KEY_SECRET_LENGTH:
        raise ValueError(f"invalid API key secret length, expected {KEY_SECRET_LENGTH} got {len(secret)}")
    return key_id, secret


def token_from_request(headers: Iterable[tuple[bytes, bytes]], query_string: bytes) -> str:
    """Find the token where Coder looks: cookie, ?coder_session_token, header, Bearer, ?access_token."""
    cookie_token = header_token = bearer_token = ""
    for name, value in headers:
        if name == b"cookie" and not cookie_token:
            try:
                jar = SimpleCookie(value.decode("latin-1"))
            except CookieError:
                continue
            if COOKIE_NAME in jar:
                cookie_token = jar[COOKIE_NAME].value
        elif name == HEADER_NAME and not header_token:
            header_token = value.decode("latin-1").strip()
        elif name == b"authorization" and not bearer_token:
            scheme, _, rest = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                bearer_token = rest.strip()
    query = dict(parse_qsl(query_string.decode("latin-1"))) if query_string else {}
    for candidate in (
        cookie_token,
        query.get(COOKIE_NAME, ""),
        header_token,
        bearer_token,
        query.get("access_token", ""),
    ):
        if candidate:
            return candidate
    return ""


class SessionCache:
    """Recently verified tokens, so a burst of requests does not read the token and user rows each time.

    Entries live `ttl` seconds: a token revoked or a user deleted (possibly by another process) stops
    working within that time. Only successful lookups are cached, so new tokens work at once.
    """

    def __init__(self, ttl: float = 1.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, ApiToken, User]] = {}

    def get(self, key_id: str) -> tuple[ApiToken, User] | None:
        """A still-fresh entry, or None."""
        entry = self._entries.get(key_id)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            del self._entries[key_id]
            return None
        return entry[1], entry[2]

    def put(self, token: ApiToken, user: User) -> None:
        """Remember a verified token."""
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # crude but bounded; refilled by the next requests
        self._entries[token.id] = (time.monotonic() + self.ttl, token, user)


async def authenticate(
    store: Store,
    headers: Iterable[tuple[bytes, bytes]],
    query_string: bytes,
    cache: SessionCache | None = None,
) -> User:
    """The user a request acts as, or a 401 ApiError with Coder's message and detail."""
    token = token_from_request(headers, query_string)
    if not token:
        raise unauthorized(f'Cookie "{COOKIE_NAME}" or query parameter must be provided.')
    try:
        key_id, secret = split_token(token)
    except ValueError as exc:
        raise unauthorized(f"Invalid API key format: {exc}") from None
    if not key_id.isascii() or not key_id.isalnum():
        # No stored id has other characters (see generate_token); PostgreSQL would refuse a NUL.
        raise unauthorized("API key is invalid.")
    cached = cache.get(key_id) if cache is not None else None
    if cached is not None:
        row, owner = cached
        if not hmac.compare_digest(row.hashed_secret, hash_secret(secret)):
            raise unauthorized("API key secret is invalid.")
    else:
        found = await store.get_api_token(key_id)
        if found is None:
            raise unauthorized("API key is invalid.")
        if not hmac.compare_digest(found.hashed_secret, hash_secret(secret)):
            raise unauthorized("API key secret is invalid.")
        user = await store.get_user(found.user_id)
        if user is None:
            raise unauthorized("API key is invalid.")
        row, owner = found, user
        if cache is not None:
            cache.put(row, owner)
    now = now_utc()
    if row.expires_at is not None and row.expires_at < now:
        raise unauthorized(f'API key expired at "{go_time(row.expires_at)}".')
    if row.last_used is None or now - row.last_used >= LAST_USED_INTERVAL:
        await _touch(store, row, now, owner, cache)
    return owner


async def _touch(store: Store, row: ApiToken, now: datetime, owner: User, cache: SessionCache | None) -> None:
    """Write last_used (at most once per LAST_USED_INTERVAL); a failure to record it never fails a request."""
    try:
        await store.touch_api_token(row.id, now)
    except Exception:
        log.warning("cannot record the last use of token %s", row.id, exc_info=True)
    if cache is not None:
        cache.put(replace(row, last_used=now), owner)
