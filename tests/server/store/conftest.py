"""Store fixtures: the same contract suite runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from server.store.base import Store
from tests.pg import pg_dsn, pg_server_dsn  # noqa: F401  (fixtures)


@dataclass
class Backend:
    """One backend under test: `new()` opens another store over the same database."""

    name: str
    new: Callable[[], Store]

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
        return Backend("sqlite", lambda: SqliteStore(path))
    from server.store.postgres import PostgresStore

    dsn = request.getfixturevalue("pg_dsn")
    return Backend("postgres", lambda: PostgresStore(dsn))


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    """An opened store, closed after the test."""
    s = await backend.open()
    try:
        yield s
    finally:
        await s.close()
