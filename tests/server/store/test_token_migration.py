"""Migration 0003 gives tokens made before expiry existed a lifetime (issue 12, section 7), on both backends."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from server.records import ApiToken, now_utc
from server.store.postgres import PostgresStore
from server.store.sqlite import SqliteStore
from tests.server.store.conftest import Backend


async def test_migration_gives_existing_tokens_the_default_lifetime(backend: Backend) -> None:
    """A database from before 0003: its tokens expire 30 days after the upgrade, not at once."""
    store = await backend.open()
    try:
        user = await store.create_user(username="old", email="o@x", name="", roles=[])
        await store.create_api_token(
            ApiToken(
                id="OldTokenId", user_id=user.id, hashed_secret=b"x" * 32, created_at=now_utc() - timedelta(days=400)
            )
        )
    finally:
        await store.close()
    _undo_0003(backend)
    before = now_utc()
    store = await backend.open()
    try:
        token = await store.get_api_token("OldTokenId")
    finally:
        await store.close()
    assert token is not None and token.expires_at is not None and token.last_used is None
    assert before + timedelta(days=30) - timedelta(seconds=2) <= token.expires_at
    assert token.expires_at <= now_utc() + timedelta(days=30)


def _undo_0003(backend: Backend) -> None:
    statements = [
        "ALTER TABLE api_keys DROP COLUMN expires_at",
        "ALTER TABLE api_keys DROP COLUMN last_used",
        "DELETE FROM schema_migrations WHERE version = 3",
    ]
    store = backend.new()
    if isinstance(store, SqliteStore):
        with sqlite3.connect(store.path) as conn:
            for statement in statements:
                conn.execute(statement)
        return
    import psycopg

    assert isinstance(store, PostgresStore)
    with psycopg.connect(store.dsn, autocommit=True) as pg:
        for statement in statements:
            pg.execute(statement.encode())
