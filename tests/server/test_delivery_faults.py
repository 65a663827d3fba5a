"""Issue 12 section 5, PostgreSQL replicas: a replica killed mid-delivery loses no fan-out, and its
leased messages are picked up by another replica within the short lease.

Real processes on one real database. The killed replica SIGKILLs itself at a fault-injection point
(`INBOX_SERVER_TEST_FAULT`, server/store/faults.py): after its inbox rows are written and their NOTIFY
queued but before the commit, or right after leasing. Before, the rows were committed and the NOTIFY sent
as a separate statement afterwards, so a watcher on the other replica never heard of a committed row, and
a lease of 120 s kept leased messages waiting that long.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from server.store.faults import FAULT_ENV, INBOX_ROWS_WRITTEN, MESSAGES_LEASED
from tests.live_server import LiveServer
from tests.pg import create_database, drop_database, pg_dsn, pg_server_dsn  # noqa: F401  (fixtures)
from tests.server.test_replicas import next_frame, post_custom, titles_in_db, watch

pytestmark = pytest.mark.postgres

MAX_PICKUP_SECONDS = 10.0  # the bound on how long a crashed replica's inbox rows may wait


@contextlib.contextmanager
def two_replicas(tmp_path: Path, dsn: str, fault: str) -> Iterator[tuple[LiveServer, LiveServer]]:
    """A healthy replica, and one armed to SIGKILL itself at `fault`. The healthy one sweeps every 4 s so
    the armed one (woken at once on enqueue) is the one that leases the message."""
    healthy = LiveServer(tmp_path / "healthy", db=dsn, args=["--fetch-interval", "4"]).start()
    doomed = LiveServer(tmp_path / "doomed", db=dsn, env={FAULT_ENV: fault})
    doomed.owner_token, doomed.member_token = healthy.owner_token, healthy.member_token
    try:
        doomed.start()
        yield doomed, healthy
    finally:
        doomed.kill()
        healthy.stop()


def lease_seconds_left_behind(dsn: str) -> list[float]:
    """The lease length of every message still leased (leased_until - the time it was leased)."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT extract(epoch FROM leased_until - updated_at) FROM notification_messages WHERE status = 'leased'"
        ).fetchall()
    return [float(r[0]) for r in rows]


@pytest.mark.parametrize("fault", [INBOX_ROWS_WRITTEN, MESSAGES_LEASED])
async def test_a_replica_killed_mid_delivery_loses_no_watcher_frame(
    tmp_path: Path,
    pg_dsn: str,  # noqa: F811
    fault: str,
) -> None:
    with two_replicas(tmp_path, pg_dsn, fault) as (doomed, healthy):
        async with watch(healthy, healthy.member_token) as ws, httpx.AsyncClient(timeout=30) as http:
            assert await post_custom(http, doomed, doomed.member_token, "survives the crash") == 204
            assert doomed.proc is not None
            assert doomed.proc.wait(30) == -9  # it died at the fault point, holding the lease
            # Nothing was committed but the lease, and the lease is short.
            leases = lease_seconds_left_behind(pg_dsn)
            assert len(leases) == 1 and 0 < leases[0] <= MAX_PICKUP_SECONDS, leases
            assert titles_in_db(pg_dsn, "member") == []
            # The healthy replica redelivers once the lease runs out, and its watcher hears of it.
            frame = await next_frame(ws)
            assert frame["notification"]["title"] == "survives the crash"
    assert titles_in_db(pg_dsn, "member") == ["survives the crash"]
