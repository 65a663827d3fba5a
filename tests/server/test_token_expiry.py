"""Tokens expire, as in Coder (issue 12, section 7): lifetimes, Coder's 401, `tokens list`, the migration."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from server.auth import go_time, hash_secret
from server.durations import DurationError, parse_go_duration
from server.errors import MSG_SIGNED_OUT
from server.records import ApiToken, now_utc
from server.store import open_store
from server.store.base import Store
from tests.live_server import LiveServer
from tests.server.helpers import user_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("720h", timedelta(days=30)),
        ("1h30m", timedelta(minutes=90)),
        ("1.5h", timedelta(minutes=90)),
        ("90s", timedelta(seconds=90)),
        (".5s", timedelta(milliseconds=500)),
        ("300ms", timedelta(milliseconds=300)),
        ("1h0m0.5s", timedelta(hours=1, milliseconds=500)),
        ("1500us", timedelta(microseconds=1500)),
        ("0", timedelta(0)),
        ("+2m", timedelta(minutes=2)),
        ("-1h", timedelta(hours=-1)),
    ],
)
def test_go_durations(text: str, expected: timedelta) -> None:
    assert parse_go_duration(text) == expected


@pytest.mark.parametrize("text", ["", "1", "h", "30d", "1 h", "1h ", "x", "+", "1h-2m", "1.h5", "1e3s", "0x10s"])
def test_not_go_durations(text: str) -> None:
    with pytest.raises(DurationError):
        parse_go_duration(text)


async def _store_of(server: LiveServer) -> Store:
    store = open_store(server.db_path)
    await store.open()
    return store


async def test_an_expired_token_gets_coders_401(live_server: LiveServer) -> None:
    owner = await user_id(live_server, live_server.owner_token)
    expired_at = now_utc() - timedelta(seconds=5)
    row = ApiToken(
        id="ExpiredKey",
        user_id=owner,
        hashed_secret=hash_secret("s" * 22),
        created_at=expired_at - timedelta(days=1),
        expires_at=expired_at,
    )
    store = await _store_of(live_server)
    try:
        await store.create_api_token(row)
    finally:
        await store.close()
    async with httpx.AsyncClient(base_url=live_server.url + "/api/v2") as c:
        response = await c.get("/users/me", headers={"Coder-Session-Token": "ExpiredKey-" + "s" * 22})
    assert response.status_code == 401
    assert response.json() == {"message": MSG_SIGNED_OUT, "detail": f'API key expired at "{go_time(expired_at)}".'}


def test_go_time_string() -> None:
    from datetime import UTC, datetime

    assert go_time(datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC)) == "2026-01-02 03:04:05.12 +0000 UTC"
    assert go_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02 03:04:05 +0000 UTC"


def _table(server: LiveServer, user: str) -> list[list[str]]:
    done = server.cli("tokens", "list", "--user", user)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["ID", "CREATED", "EXPIRES", "LAST", "USED"]
    return [line.split(None, 3) for line in lines[1:]]


async def test_lifetimes_and_the_token_list(live_server: LiveServer) -> None:
    before = now_utc()
    short = live_server.cli("tokens", "create", "--user", "member", "--lifetime", "1h30m", check=True).stdout.strip()
    forever = live_server.cli("tokens", "create", "--user", "member", "--lifetime", "0", check=True).stdout.strip()
    default = live_server.cli("tokens", "create", "--user", "member", check=True).stdout.strip()
    for bad in ("30d", "-1h", "1", "500ms"):
        done = live_server.cli("tokens", "create", "--user", "member", f"--lifetime={bad}")
        assert done.returncode == 1 and "--lifetime" in done.stderr and done.stdout == "", (bad, done.stderr)

    store = await _store_of(live_server)
    try:
        rows = {t.id: t for t in await store.list_api_tokens(await user_id(live_server, live_server.member_token))}
    finally:
        await store.close()
    by_token = {token: rows[token.split("-")[0]] for token in (short, forever, default)}
    assert by_token[forever].expires_at is None
    for token, lifetime in ((short, timedelta(minutes=90)), (default, timedelta(days=30))):
        expires = by_token[token].expires_at
        assert expires is not None and before + lifetime <= expires <= now_utc() + lifetime

    table = {row[0]: row for row in _table(live_server, "member")}
    assert set(by_token[t].id for t in (short, forever, default)) <= set(table)
    assert table[forever.split("-")[0]][2] == "never"
    assert table[short.split("-")[0]][3] == "never"  # never used yet

    # A request records the last use; a second one within the minute writes nothing new.
    async with httpx.AsyncClient(base_url=live_server.url + "/api/v2") as c:
        assert (await c.get("/users/me", headers={"Coder-Session-Token": short})).status_code == 200
        first = {row[0]: row for row in _table(live_server, "member")}[short.split("-")[0]][3]
        assert first != "never" and first.endswith("Z")
        assert (await c.get("/users/me", headers={"Coder-Session-Token": forever})).status_code == 200
    assert {row[0]: row for row in _table(live_server, "member")}[short.split("-")[0]][3] == first


def test_users_create_takes_a_lifetime(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    assert server.cli("users", "create", "--username", "dana", "--lifetime", "nope").returncode == 1
    assert server.cli("users", "list").stdout == ""  # nothing created when the lifetime is bad
    assert server.cli("users", "create", "--username", "dana", "--lifetime", "0").returncode == 0
    [row] = _table(server, "dana")
    assert row[2] == "never"
    assert server.cli("users", "create", "--username", "erin").returncode == 0
    [row] = _table(server, "erin")
    assert row[2] != "never"
