"""Issue 12 section 5: leases are short, and renewed while a send is in flight.

A webhook receiver that takes longer to answer than the lease lasts: two notifiers (two replicas on one
PostgreSQL database, or two on one SQLite store) share the queue, and the message must be sent exactly
once, because its notifier keeps renewing the lease while the send is in flight. Before, the lease ran
out mid-send and the other notifier sent the message again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from server.app import build_methods
from server.config import ServerConfig, WebhookConfig
from server.notify.dispatcher import Dispatcher
from server.records import MessageStatus, NotificationMethod
from server.store import open_store
from server.store.base import Store
from tests.pg import create_database, drop_database, pg_server_dsn  # noqa: F401  (fixture)
from tests.server.helpers import wait_for
from tests.server.store.test_store_contract import make_user, message

LEASE = 1.0  # seconds; the send below takes three leases
SEND_TAKES = 3.0


class SlowReceiver:
    """A real HTTP server on 127.0.0.1 that counts POSTs as they arrive and answers after SEND_TAKES."""

    def __init__(self) -> None:
        self.arrived = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.arrived += 1
                time.sleep(SEND_TAKES)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)


@pytest.fixture
def receiver() -> Iterator[SlowReceiver]:
    r = SlowReceiver()
    r.thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Store, Store]]:
    """Two stores on one database (PostgreSQL: two replicas), or one SQLite store shared by two notifiers."""
    if request.param == "sqlite":
        store = open_store(str(tmp_path / "inbox.db"))
        await store.open()
        try:
            yield store, store
        finally:
            await store.close()
        return
    server_dsn = request.getfixturevalue("pg_server_dsn")
    dsn = create_database(server_dsn)
    a, b = open_store(dsn), open_store(dsn)
    try:
        await a.open()
        await b.open()
        yield a, b
    finally:
        await a.close()
        await b.close()
        drop_database(server_dsn, dsn)


async def test_a_send_longer_than_the_lease_is_not_sent_twice(
    two_stores: tuple[Store, Store], receiver: SlowReceiver
) -> None:
    config = ServerConfig(
        db="", lease_seconds=LEASE, fetch_interval=0.1, webhook=WebhookConfig(url=receiver.url, timeout=30)
    )
    first, second = two_stores
    alice = await make_user(first)
    msg = message(alice, method=NotificationMethod.WEBHOOK)
    notifiers = [Dispatcher(config, store, build_methods(config)) for store in two_stores]
    for notifier in notifiers:
        await notifier.start()
    try:
        await first.enqueue_messages([msg])
        notifiers[0].wake()

        async def sent() -> bool:
            got = await second.get_message(msg.id)
            return got is not None and got.status is MessageStatus.SENT

        await wait_for(sent, within=60)
    finally:
        for notifier in notifiers:
            await notifier.stop()
    # The send took three leases; the lease was renewed, so nobody else took the message over meanwhile.
    assert receiver.arrived == 1
    done = await first.get_message(msg.id)
    assert done is not None and done.attempt_count == 1
