"""The watch handshake's refusals when subscribing fails (server/api/watch.py): 503 while pub/sub is
unavailable or the hub is shutting down, 500 when subscribing crashes; and a watcher is served once the
fault has cleared.

The server is real (our ASGI app under uvicorn with our websocket protocol, in this process, on a free port;
a real websocket client). The fault is injected at the smallest seam: the SQLite store's in-process pub/sub
is a subclass whose `subscribe` raises the scripted errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
import websockets
from websockets.exceptions import InvalidStatus

from server.app import InboxServer
from server.auth import generate_token
from server.config import ServerConfig
from server.errors import MSG_INTERNAL
from server.store.base import InboxListener, PubsubUnavailableError, Unsubscribe
from server.store.local_pubsub import LocalPubsub
from server.store.sqlite import SqliteStore
from server.ws_protocol import WatchWebSocketProtocol
from tests.server.watch_helpers import WATCH_PATH

UNAVAILABLE = {"message": "Inbox notifications are unavailable right now, try again later.", "detail": MSG_INTERNAL}
CRASHED = {"message": "Failed to subscribe to inbox notifications.", "detail": MSG_INTERNAL}
SHUTTING_DOWN = {"message": "The server is shutting down."}


class ScriptedPubsub(LocalPubsub):
    """The in-process pub/sub, except that the next subscribes raise the scripted errors."""

    def __init__(self) -> None:
        super().__init__()
        self.failures: list[Exception] = []

    async def subscribe(self, user_id: uuid.UUID, listener: InboxListener) -> Unsubscribe:
        """Raise the next scripted error, if any; subscribe for real otherwise."""
        if self.failures:
            raise self.failures.pop(0)
        return await super().subscribe(user_id, listener)


class QuietServer(uvicorn.Server):
    """uvicorn without its signal handlers (pytest keeps its own)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Install nothing."""
        yield


@dataclass
class Running:
    app: InboxServer
    store: SqliteStore
    pubsub: ScriptedPubsub
    url: str
    token: str


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    """Our app under uvicorn (as `serve` runs it) in this process, on a store with a scripted pub/sub."""
    store = SqliteStore(str(tmp_path / "inbox.db"))
    pubsub = store.pubsub = ScriptedPubsub()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = InboxServer(ServerConfig(db=str(tmp_path / "inbox.db"), access_url=f"http://127.0.0.1:{port}"), store)
    config = uvicorn.Config(
        app, lifespan="on", loop="none", http="h11", ws=WatchWebSocketProtocol, ws_ping_interval=None, log_config=None
    )
    server = QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(15):
            while not server.started:
                assert not task.done(), "the server did not start"
                await asyncio.sleep(0.01)
        user = await store.create_user(username="alice", email="alice@example.com", name="Alice", roles=[])
        token, row = generate_token(user.id)
        await store.create_api_token(row)
        yield Running(app, store, pubsub, f"ws://127.0.0.1:{port}{WATCH_PATH}", token)
    finally:
        server.should_exit = True
        await task
        sock.close()


async def refusal(running: Running) -> tuple[int, object]:
    """Open the watch socket, expecting the handshake to be refused: (status, JSON body)."""
    with pytest.raises(InvalidStatus) as caught:
        async with websockets.connect(
            running.url, additional_headers={"Coder-Session-Token": running.token}, open_timeout=10
        ):
            pass
    response = caught.value.response
    return response.status_code, json.loads(response.body or b"null")


async def test_a_failing_subscribe_refuses_the_handshake_then_recovers(running: Running) -> None:
    running.pubsub.failures += [PubsubUnavailableError("LISTEN connection reconnecting"), RuntimeError("boom")]
    assert await refusal(running) == (503, UNAVAILABLE)  # come back shortly
    assert await refusal(running) == (500, CRASHED)
    ctx = running.app.ctx
    assert ctx is not None and ctx.hub.watcher_count == 0
    assert running.pubsub.listener_count() == 0
    # The fault has cleared: the next watcher is accepted and served.
    async with websockets.connect(
        running.url, additional_headers={"Coder-Session-Token": running.token}, open_timeout=10
    ) as ws:
        assert ctx.hub.watcher_count == 1
        await ws.close()


async def test_a_hub_shutting_down_refuses_with_503(running: Running) -> None:
    ctx = running.app.ctx
    assert ctx is not None
    await ctx.hub.close_all()  # as at the start of a shutdown, while the listener still takes connections
    assert await refusal(running) == (503, SHUTTING_DOWN)
    assert ctx.hub.watcher_count == 0
