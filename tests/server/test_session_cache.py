"""The session cache (server/auth.py): a cached key id never lets a wrong secret through."""

from __future__ import annotations

import uuid

import pytest

from server.auth import SessionCache, authenticate, generate_token, split_token
from server.errors import ApiError
from server.records import User
from server.store.sqlite import SqliteStore
from tests.live_server import LiveServer
from tests.server.helpers import client


def session(token: str) -> list[tuple[bytes, bytes]]:
    return [(b"coder-session-token", token.encode())]


async def test_a_cached_key_id_still_checks_the_secret(store: SqliteStore) -> None:
    user: User = await store.create_user(username="alice", email="alice@example.com", name="Alice", roles=[])
    token, row = generate_token(user.id)
    await store.create_api_token(row)
    cache = SessionCache(ttl=3600)  # nothing expires during the test: the second lookup is a cache hit
    assert await authenticate(store, session(token), b"", cache) == user
    key_id, secret = split_token(token)
    assert cache.get(key_id) is not None
    wrong = f"{key_id}-{'x' * len(secret)}"
    with pytest.raises(ApiError) as caught:
        await authenticate(store, session(wrong), b"", cache)
    assert caught.value.status == 401 and caught.value.detail == "API key secret is invalid."
    assert await authenticate(store, session(token), b"", cache) == user  # the right secret still works
    assert cache.get(uuid.uuid4().hex[:10]) is None


async def test_wrong_secret_right_after_a_valid_request_is_refused(live_server: LiveServer) -> None:
    token = live_server.create_token(live_server.member_username)
    key_id, secret = split_token(token)
    async with client(live_server, token) as c:
        assert (await c.get("/users/me")).status_code == 200  # verified: the key id is now cached
        wrong = await c.get("/users/me", headers={"Coder-Session-Token": f"{key_id}-{'x' * len(secret)}"})
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "API key secret is invalid."
