"""Store fixtures: the same contract suite runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from server.store.base import Store
from tests.pg import pg_dsn, pg_server_dsn  # noqa: F401  (fixtures)


@dataclass
class Backend:
    """One backend under test: `new()` opens another store over the same database.

    `execute(sql, *uuids)` runs one statement straight on the database (`?` placeholders, UUID parameters),
    for tests that must leave a state no Store method makes, such as rows an older release wrote.
    """

    name: str
    new: Callable[[], Store]
    execute: Callable[..., None]

    async def open(self) -> Store:
        """A new, opened store over this backend's database."""
        store = self.new()
        await store.open()
        return store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """SQLite on a temporary file, or PostgreSQL on a fresh database."""
    if request.param == "sqlite":
        from server.store.sqlite import SqliteStore

        path = str(tmp_path / "x.db")

        def sqlite_execute(sql: str, *ids: uuid.UUID) -> None:
            with sqlite3.connect(path) as conn:  # commits on leaving
                conn.execute(sql, [i.bytes for i in ids])
            conn.close()

        return Backend("sqlite", lambda: SqliteStore(path), sqlite_execute)
    import psycopg

    from server.store.postgres import PostgresStore

    dsn = request.getfixturevalue("pg_dsn")

    def pg_execute(sql: str, *ids: uuid.UUID) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.replace("?", "%s").encode(), ids)

    return Backend("postgres", lambda: PostgresStore(dsn), pg_execute)


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    """An opened store, closed after the test."""
    s = await backend.open()
    try:
        yield s
    finally:
        await s.close()
