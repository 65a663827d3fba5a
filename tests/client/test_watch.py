"""The watch stream: frame parsing, backoff, reconnect and connection state.

A small websockets server stands in for a Coder deployment here (frames ending with a newline, refusals
before the upgrade); the end-to-end tests run the same code against our real server.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from inbox_tui.api.client import CoderClient
from inbox_tui.api.errors import ApiError, ConnectionFailed
from inbox_tui.api.watch import (
    Arrived,
    Backoff,
    ConnectionState,
    InboxWatcher,
    Reconnected,
    StateChanged,
    WatchItem,
    parse_frame,
)
from tests.client.fakes import notification_json


def frame(index: int, unread: int) -> str:
    # Coder writes json.Encoder output: the JSON document followed by "\n".
    return json.dumps({"notification": notification_json(index), "unread_count": unread}) + "\n"


def test_parse_frame_trims_newline_and_ignores_junk() -> None:
    event = parse_frame(frame(2, 5))
    assert event is not None and event.notification.title == "Notification 2" and event.unread_count == 5
    assert parse_frame(frame(2, 5).encode()) == event
    assert parse_frame("  \n") is None
    assert parse_frame("not json") is None
    assert parse_frame('{"kind": "new"}') is None
    assert parse_frame("[1, 2]") is None


def test_backoff_full_jitter_grows_to_cap_and_resets() -> None:
    backoff = Backoff(base=0.5, cap=30.0, rng=random.Random(7))
    ceilings = []
    for _ in range(10):
        ceiling = backoff.ceiling()
        ceilings.append(ceiling)
        delay = backoff.next_delay()
        assert 0.0 <= delay <= ceiling
    assert ceilings[:7] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0]
    assert ceilings[7:] == [30.0, 30.0, 30.0]
    backoff.reset()
    assert backoff.ceiling() == 0.5 and backoff.attempt == 0
    for _ in range(2000):  # no overflow after very many attempts
        backoff.next_delay()
    assert backoff.ceiling() == 30.0


def test_backoff_delays_are_spread_out() -> None:
    # Full jitter: many clients dropped at once do not come back in lockstep.
    delays = {round(Backoff(rng=random.Random(seed)).next_delay(), 6) for seed in range(20)}
    assert len(delays) == 20


Handler = Callable[[ServerConnection], Awaitable[None]]


class FakeCoder:
    """A websockets server shaped like Coder's watch endpoint."""

    def __init__(self) -> None:
        self.connections = 0
        self.headers: list[Headers] = []
        self.paths: list[str] = []
        self.refuse: tuple[int, bytes, str] | None = None
        self.on_connect: Handler = self.send_one_then_close
        self.sent = 0

    async def send_one_then_close(self, ws: ServerConnection) -> None:
        self.sent += 1
        await ws.send(frame(self.sent, self.sent))
        await ws.close()

    async def handler(self, ws: ServerConnection) -> None:
        self.connections += 1
        await self.on_connect(ws)

    def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        self.headers.append(request.headers)
        self.paths.append(request.path)
        if self.refuse is not None:
            status, body, ctype = self.refuse
            return Response(status, "Refused", Headers({"Content-Type": ctype}), body)
        return None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        async with serve(self.handler, "127.0.0.1", 0, process_request=self.process_request) as server:
            port = server.sockets[0].getsockname()[1]
            yield f"http://127.0.0.1:{port}"


async def collect(watcher: InboxWatcher, until: Callable[[list[WatchItem]], bool]) -> list[WatchItem]:
    items: list[WatchItem] = []

    async def run() -> None:
        async for item in watcher:
            items.append(item)
            if until(items):
                watcher.stop()

    await asyncio.wait_for(run(), timeout=20)
    return items


def arrivals(items: list[WatchItem]) -> list[str]:
    return [i.event.notification.title for i in items if isinstance(i, Arrived)]


def states(items: list[WatchItem]) -> list[ConnectionState]:
    return [i.state for i in items if isinstance(i, StateChanged)]


async def test_reconnects_and_reports_state() -> None:
    fake = FakeCoder()
    async with fake.running() as url, CoderClient(url, "id-secret") as client:
        watcher = InboxWatcher(client, read_status="unread", format="plaintext", backoff=Backoff(base=0.01))
        items = await collect(watcher, lambda items: len(arrivals(items)) == 3)
    assert arrivals(items) == ["Notification 1", "Notification 2", "Notification 3"]
    assert states(items)[:5] == [
        ConnectionState.CONNECTING,
        ConnectionState.LIVE,
        ConnectionState.RECONNECTING,
        ConnectionState.CONNECTING,
        ConnectionState.LIVE,
    ]
    assert states(items)[-1] is ConnectionState.OFFLINE
    # Reconnected follows every LIVE except the first, before any frame of that connection.
    kinds = [type(i).__name__ for i in items]
    assert kinds.count("Reconnected") == 2
    first_live = kinds.index("StateChanged", kinds.index("StateChanged") + 1)
    assert "Reconnected" not in kinds[: first_live + 1]
    reconnecting = [i for i in items if isinstance(i, StateChanged) and i.state is ConnectionState.RECONNECTING]
    assert all(i.retry_in is not None and 0 <= i.retry_in <= 0.04 for i in reconnecting)
    assert all(isinstance(i.error, ConnectionFailed) for i in reconnecting)
    assert reconnecting[0].attempt == 1
    # The token travels in the header; the filters and format in the query.
    assert fake.headers[0]["Coder-Session-Token"] == "id-secret"
    assert fake.paths[0] == "/api/v2/notifications/inbox/watch?read_status=unread&format=plaintext"
    assert watcher.state is ConnectionState.OFFLINE


async def test_backoff_resets_after_a_healthy_connection() -> None:
    fake = FakeCoder()
    async with fake.running() as url, CoderClient(url, "t") as client:
        # healthy_after=0: every connection that opened counts as healthy, so attempts start over.
        watcher = InboxWatcher(client, backoff=Backoff(base=0.01), healthy_after=0.0)
        items = await collect(watcher, lambda items: len(arrivals(items)) == 3)
    attempts = [i.attempt for i in items if isinstance(i, StateChanged) and i.state is ConnectionState.RECONNECTING]
    assert attempts == [1, 1]


async def test_backoff_grows_while_connections_are_short() -> None:
    fake = FakeCoder()
    async with fake.running() as url, CoderClient(url, "t") as client:
        watcher = InboxWatcher(client, backoff=Backoff(base=0.001), healthy_after=60.0)
        items = await collect(watcher, lambda items: len(arrivals(items)) == 4)
    attempts = [i.attempt for i in items if isinstance(i, StateChanged) and i.state is ConnectionState.RECONNECTING]
    assert attempts == [1, 2, 3]


@pytest.mark.parametrize("status", [401, 403, 400, 404])
async def test_refused_upgrade_goes_offline_without_retrying(status: int) -> None:
    fake = FakeCoder()
    fake.refuse = (status, b'{"message":"You are signed out or your session has expired."}', "application/json")
    async with fake.running() as url, CoderClient(url, "bad") as client:
        items = await collect(InboxWatcher(client, backoff=Backoff(base=0.001)), lambda items: False)
    assert states(items) == [ConnectionState.CONNECTING, ConnectionState.OFFLINE]
    last = items[-1]
    assert isinstance(last, StateChanged) and isinstance(last.error, ApiError)
    assert last.error.status == status
    assert str(last.error).startswith(
        f"GET {url}/api/v2/notifications/inbox/watch: unexpected status code {status}: You are signed out"
    )
    assert len(fake.paths) == 1


async def test_server_errors_on_upgrade_are_retried() -> None:
    fake = FakeCoder()
    fake.refuse = (503, b"upstream unavailable", "text/plain")
    async with fake.running() as url, CoderClient(url, "t") as client:

        def until(items: list[WatchItem]) -> bool:
            retries = [i for i in items if isinstance(i, StateChanged) and i.state is ConnectionState.RECONNECTING]
            if len(retries) == 2:
                fake.refuse = None  # the deployment comes back
            return bool(arrivals(items))

        items = await collect(InboxWatcher(client, backoff=Backoff(base=0.001)), until)
    retry = next(i for i in items if isinstance(i, StateChanged) and i.state is ConnectionState.RECONNECTING)
    assert isinstance(retry.error, ApiError) and retry.error.status == 503
    assert 'unexpected non-JSON response "text/plain"' in str(retry.error)
    assert arrivals(items) == ["Notification 1"]
    # The first successful connection after failures is not a *re*connection.
    assert not any(isinstance(i, Reconnected) for i in items)


async def test_nothing_listening_keeps_retrying_with_readable_error() -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    async with CoderClient(f"http://127.0.0.1:{port}", "t") as client:
        watcher = InboxWatcher(client, backoff=Backoff(base=0.001))
        items = await collect(watcher, lambda items: states(items).count(ConnectionState.RECONNECTING) == 3)
    retry = next(i for i in items if isinstance(i, StateChanged) and i.state is ConnectionState.RECONNECTING)
    assert isinstance(retry.error, ConnectionFailed)
    assert "connection refused" in str(retry.error)


async def test_stop_while_live_and_bad_frames_are_skipped() -> None:
    fake = FakeCoder()
    release = asyncio.Event()

    async def chatty(ws: ServerConnection) -> None:
        await ws.send("garbage\n")
        await ws.send(frame(1, 1))
        await release.wait()

    fake.on_connect = chatty
    async with fake.running() as url, CoderClient(url, "t") as client:
        watcher = InboxWatcher(client)
        items = await collect(watcher, lambda items: bool(arrivals(items)))
        release.set()
    assert arrivals(items) == ["Notification 1"]
    assert states(items) == [ConnectionState.CONNECTING, ConnectionState.LIVE, ConnectionState.OFFLINE]


async def test_retry_now_skips_the_wait() -> None:
    fake = FakeCoder()
    async with fake.running() as url, CoderClient(url, "t") as client:
        # A long backoff that would time the test out, cut short by retry_now().
        watcher = InboxWatcher(client, backoff=Backoff(base=1000.0, cap=1000.0, rng=random.Random(1)))

        def until(items: list[WatchItem]) -> bool:
            last = items[-1]
            if isinstance(last, StateChanged) and last.state is ConnectionState.RECONNECTING:
                assert last.retry_in is not None and last.retry_in > 10
                watcher.retry_now()  # from inside the handler, as a key binding would
            return len(arrivals(items)) == 2

        items = await collect(watcher, until)
    assert arrivals(items) == ["Notification 1", "Notification 2"]
