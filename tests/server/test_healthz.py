"""GET /healthz (issue 13, section 2): OK while the database answers, 503 in Coder's shape when it is gone.

The failures are real: the SQLite file is deleted under the running server, the PostgreSQL cluster is stopped.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.live_server import LiveServer
from tests.pg import PgCluster, create_database, drop_database, pg_cluster  # noqa: F401  (fixture)
from tests.server.helpers import wait_for


async def _healthz(server: LiveServer) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as c:
        return await c.get(server.url + "/healthz")


def _delete_database_files(db_path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(db_path + suffix).unlink(missing_ok=True)


async def test_ok_without_authentication(shared_server: LiveServer) -> None:
    response = await _healthz(shared_server)
    assert response.status_code == 200
    assert response.text == "OK"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    async with httpx.AsyncClient() as c:
        head = await c.head(shared_server.url + "/healthz")
        assert head.status_code == 200
        wrong = await c.post(shared_server.url + "/healthz")
        assert wrong.status_code == 405 and wrong.json() == {"message": "Method not allowed."}


async def test_not_rate_limited(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "server", args=["--api-rate-limit", "3"]).start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as c:
            statuses = [(await c.get("/healthz")).status_code for _ in range(10)]
            assert statuses == [200] * 10
            # The limit is in force for the API itself (same client address).
            api = [(await c.get("/api/v2/buildinfo")).status_code for _ in range(10)]
            assert 429 in api
    finally:
        server.stop()


async def test_sqlite_file_deleted_is_503(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "server", args=["--log-level", "info"]).start()
    try:
        assert (await _healthz(server)).status_code == 200
        _delete_database_files(server.db_path)
        response = await _healthz(server)
        assert response.status_code == 503
        body = response.json()
        assert body["message"] == "The database is unavailable."
        assert "unable to open database file" in body["detail"]
        assert set(body) == {"message", "detail"}
        # The server itself keeps serving the probe.
        assert (await _healthz(server)).status_code == 503
    finally:
        server.stop()
    # Probes come every few seconds: neither they nor their failures are logged at info level.
    log = server.log_path.read_text()
    assert "healthz" not in log and "unable to open database file" not in log, log


async def test_postgres_unreachable_is_503_then_recovers(tmp_path: Path, pg_cluster: PgCluster) -> None:  # noqa: F811
    dsn = create_database(pg_cluster.dsn)
    server = LiveServer(tmp_path / "server", db=dsn).start()
    try:
        assert (await _healthz(server)).status_code == 200
        await asyncio.to_thread(pg_cluster.stop)
        try:
            response = await _healthz(server)
            assert response.status_code == 503
            body = response.json()
            assert body["message"] == "The database is unavailable."
            assert "PostgreSQL" in body["detail"] or "did not answer" in body["detail"], body
        finally:
            await asyncio.to_thread(pg_cluster.start)

        async def healthy() -> bool:
            return (await _healthz(server)).status_code == 200

        await wait_for(healthy, within=30)
    finally:
        server.stop()
        drop_database(pg_cluster.dsn, dsn)
