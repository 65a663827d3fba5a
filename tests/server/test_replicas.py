"""Several `inbox-server serve --db postgresql://...` processes over one database behave as one server.

Real processes, real PostgreSQL, real websockets: a notification posted through one replica reaches a
watcher on the other (LISTEN/NOTIFY), every queued message is delivered once even with two notifiers
leasing, a lost listener connection closes watchers with 1013 and recovers, and restarting PostgreSQL
loses nothing that was acknowledged with 204.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from server.store.pg_pubsub import listener_application_name
from tests.live_server import LiveServer
from tests.pg import (  # noqa: F401  (fixtures)
    PgCluster,
    create_database,
    drop_database,
    pg_cluster,
    pg_dsn,
    pg_server_dsn,
)

pytestmark = pytest.mark.postgres

WATCH = "/api/v2/notifications/inbox/watch"
CUSTOM = "/api/v2/notifications/custom"
SETTLE = 90.0  # generous bound for deliveries to finish; a correctness guard, not a speed goal


def start_replicas(workdir: Path, dsn: str, count: int = 2) -> list[LiveServer]:
    """`count` servers on their own ports over one database; users are created once, via the first."""
    first = LiveServer(workdir / "r1", db=dsn).start()
    servers = [first]
    try:
        for n in range(2, count + 1):
            other = LiveServer(workdir / f"r{n}", db=dsn)
            other.owner_token, other.member_token = first.owner_token, first.member_token
            servers.append(other.start())
    except BaseException:
        for s in servers:
            s.stop()
        raise
    return servers


@pytest.fixture
def replicas(tmp_path: Path, pg_dsn: str) -> Iterator[list[LiveServer]]:  # noqa: F811
    """Two replicas over a fresh database."""
    servers = start_replicas(tmp_path, pg_dsn)
    try:
        yield servers
    finally:
        for s in servers:
            s.stop()


@contextlib.asynccontextmanager
async def watch(server: LiveServer, token: str) -> AsyncIterator[ClientConnection]:
    """An open watch websocket on one replica."""
    async with connect(
        server.ws_url + WATCH, additional_headers=server.headers(token), open_timeout=15, max_size=None
    ) as ws:
        yield ws


async def next_frame(ws: ClientConnection) -> dict[str, Any]:
    """The next watch message (one JSON document followed by a newline)."""
    raw = await asyncio.wait_for(ws.recv(), 30)
    assert isinstance(raw, str) and raw.endswith("\n")
    frame: dict[str, Any] = json.loads(raw)
    return frame


async def post_custom(client: httpx.AsyncClient, server: LiveServer, token: str, title: str) -> int:
    """POST /notifications/custom; returns the status code."""
    response = await client.post(
        server.url + CUSTOM,
        headers=server.headers(token),
        json={"content": {"title": title, "message": "across replicas"}},
    )
    return response.status_code


def titles_in_db(dsn: str, username: str) -> list[str]:
    """Every inbox title of one user, read straight from the database."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT i.title FROM inbox_notifications i JOIN users u ON u.id = i.user_id WHERE u.username = %s",
            (username,),
        ).fetchall()
    return [r[0] for r in rows]


async def wait_for_titles(dsn: str, username: str, wanted: set[str]) -> list[str]:
    """Poll the database until every wanted title is in the user's inbox (or SETTLE passes)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE
    while True:
        titles = await asyncio.to_thread(titles_in_db, dsn, username)
        if wanted <= set(titles) or loop.time() > deadline:
            return titles
        await asyncio.sleep(0.2)


async def test_watcher_on_one_replica_receives_what_was_posted_on_the_other(replicas: list[LiveServer]) -> None:
    r1, r2 = replicas
    async with watch(r1, r1.member_token) as ws, httpx.AsyncClient(timeout=30) as client:
        assert await post_custom(client, r2, r2.member_token, "from replica 2") == 204
        frame = await next_frame(ws)
        assert frame["notification"]["title"] == "from replica 2"
        assert frame["unread_count"] == 1
        # And the other way round, on the same socket.
        assert await post_custom(client, r1, r1.member_token, "from replica 1") == 204
        frame = await next_frame(ws)
        assert frame["notification"]["title"] == "from replica 1"
        assert frame["unread_count"] == 2


async def test_round_robin_posts_are_each_delivered_exactly_once(
    replicas: list[LiveServer],
    pg_dsn: str,  # noqa: F811
) -> None:
    total = 1000
    titles = [f"n{i:04d}" for i in range(total)]
    received: list[list[str]] = [[], []]

    async def collect(ws: ClientConnection, into: list[str]) -> None:
        while len(into) < total:
            into.append((await next_frame(ws))["notification"]["title"])

    async with (
        watch(replicas[0], replicas[0].member_token) as ws1,
        watch(replicas[1], replicas[1].member_token) as ws2,
        httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=16)) as client,
    ):
        collectors = [asyncio.create_task(collect(ws, into)) for ws, into in ((ws1, received[0]), (ws2, received[1]))]
        servers = itertools.cycle(replicas)
        jobs = [(next(servers), title) for title in titles]
        gate = asyncio.Semaphore(16)

        async def post(server: LiveServer, title: str) -> int:
            async with gate:
                return await post_custom(client, server, server.member_token, title)

        codes = await asyncio.gather(*(post(s, t) for s, t in jobs))
        assert set(codes) == {204}
        await asyncio.wait_for(asyncio.gather(*collectors), SETTLE)

    # Each watcher saw every notification once, whichever replica delivered it.
    assert sorted(received[0]) == titles
    assert sorted(received[1]) == titles
    in_db = await asyncio.to_thread(titles_in_db, pg_dsn, replicas[0].member_username)
    assert sorted(in_db) == titles
    with psycopg.connect(pg_dsn) as conn:
        outcome = conn.execute(
            "SELECT status::text, attempt_count, count(*) FROM notification_messages GROUP BY 1, 2"
        ).fetchall()
    # One inbox message per POST, each sent on its first and only attempt: no notifier delivered twice.
    assert outcome == [("sent", 1, total)]


async def test_lost_listener_closes_watchers_with_1013_and_recovers(
    replicas: list[LiveServer],
    pg_dsn: str,  # noqa: F811
) -> None:
    r1, r2 = replicas
    async with httpx.AsyncClient(timeout=30) as client:
        async with watch(r1, r1.member_token) as ws:
            assert await post_custom(client, r2, r2.member_token, "before") == 204
            assert (await next_frame(ws))["notification"]["title"] == "before"
            with psycopg.connect(pg_dsn, autocommit=True) as admin:
                rows = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = %s AND datname = current_database()",
                    (listener_application_name(r1.pid),),
                ).fetchall()
            assert rows == [(True,)], "replica 1 should have exactly one listener connection"
            with pytest.raises(ConnectionClosed) as closed:
                await next_frame(ws)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013

        # A client reconnects (as inbox-tui does) and later notifications arrive again.
        async with watch(r1, r1.member_token) as ws:
            assert await post_custom(client, r2, r2.member_token, "after") == 204
            assert (await next_frame(ws))["notification"]["title"] == "after"


@pytest.fixture
def cluster_replicas(tmp_path: Path, pg_cluster: PgCluster) -> Iterator[tuple[PgCluster, str, list[LiveServer]]]:  # noqa: F811
    """Two replicas over a database of a private cluster this test may restart."""
    dsn = create_database(pg_cluster.dsn)
    servers = start_replicas(tmp_path, dsn)
    try:
        yield pg_cluster, dsn, servers
    finally:
        for s in servers:
            s.stop()
        drop_database(pg_cluster.dsn, dsn)


async def test_restarting_postgres_loses_no_acknowledged_notification(
    cluster_replicas: tuple[PgCluster, str, list[LiveServer]],
) -> None:
    cluster, dsn, servers = cluster_replicas
    member = servers[0].member_username
    acknowledged: set[str] = set()
    failed = 0
    stop = asyncio.Event()
    counter = itertools.count()

    async def poster(client: httpx.AsyncClient, server: LiveServer) -> None:
        nonlocal failed
        while not stop.is_set():
            title = f"r{next(counter):05d}"
            try:
                code = await post_custom(client, server, server.member_token, title)
            except httpx.HTTPError:
                code = 0
            if code == 204:
                acknowledged.add(title)
                progress.set()
            else:
                failed += 1
                await asyncio.sleep(0.05)

    progress = asyncio.Event()

    async def until(count: int) -> None:
        while len(acknowledged) < count:
            progress.clear()
            await progress.wait()

    async with httpx.AsyncClient(timeout=60) as client:
        posters = [asyncio.create_task(poster(client, servers[i % 2])) for i in range(4)]
        try:
            await asyncio.wait_for(until(100), SETTLE)
            await asyncio.to_thread(cluster.restart)
            before = len(acknowledged)
            await asyncio.wait_for(until(before + 100), SETTLE)  # both replicas serve again
        finally:
            stop.set()
            await asyncio.gather(*posters)

    titles = await wait_for_titles(dsn, member, acknowledged)
    missing = acknowledged - set(titles)
    assert not missing, f"{len(missing)} acknowledged notifications never reached the inbox: {sorted(missing)[:10]}"
    assert len(titles) == len(set(titles)), "a notification was delivered twice"
