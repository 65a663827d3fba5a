"""Server suites run against both backends: every `live_server`/`shared_server` test runs on SQLite and on
PostgreSQL (a fresh database per test on the session's cluster; see tests/pg.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from server.store.sqlite import SqliteStore
from tests.live_server import LiveServer
from tests.pg import create_database, drop_database, pg_server_dsn  # noqa: F401  (fixture)

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _database(request: pytest.FixtureRequest, workdir: Path) -> str | None:
    if request.param == "sqlite":
        return None
    return create_database(request.getfixturevalue("pg_server_dsn"))


def _drop(request: pytest.FixtureRequest, db: str | None) -> None:
    if db is not None:
        drop_database(request.getfixturevalue("pg_server_dsn"), db)


@pytest.fixture(params=BACKENDS)
def live_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A fresh server and database for one test, on each backend."""
    db = _database(request, tmp_path)
    server = LiveServer(tmp_path / "server", db=db).start()
    try:
        yield server
    finally:
        server.stop()
        _drop(request, db)


@pytest.fixture(scope="session", params=BACKENDS)
def shared_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server per backend for the whole session, for tests that only read or create their own users."""
    db = _database(request, tmp_path_factory.getbasetemp())
    server = LiveServer(tmp_path_factory.mktemp(f"shared-{request.param}"), db=db).start()
    try:
        yield server
    finally:
        server.stop()
        _drop(request, db)


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """A fresh SQLite store of the test's own, closed afterwards."""
    store = SqliteStore(str(tmp_path / "inbox.db"))
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def store(sqlite_store: SqliteStore) -> SqliteStore:
    """The store of the server's unit tests (tests/server/store/ runs its contract on both backends instead)."""
    return sqlite_store
