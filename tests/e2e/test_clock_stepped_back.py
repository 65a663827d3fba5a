"""Issue 12 section 5: a wall clock stepped back must not hide a notification from catch-up.

Catch-up after a reconnect (inbox_tui.api.resync) lists newest first and stops at the first page holding
a known id. A notification stamped an hour before the ones already delivered sorted below them, so it was
never shown. Now created_at is monotonic per database: the store stamps it 1 µs after the newest row
when the clock is behind, and logs a warning. Real parts: the store and notifier in this process with an
injected clock, then a real server listing the database to the real client's resync, on both backends.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from inbox_tui.api.client import CoderClient
from inbox_tui.api.resync import resync
from server.config import ServerConfig
from server.notify.dispatcher import Dispatcher
from server.records import now_utc
from server.store import open_store
from tests.live_server import LiveServer
from tests.pg import create_database, drop_database, pg_server_dsn  # noqa: F401  (fixture)
from tests.server.helpers import wait_for
from tests.server.store.test_store_contract import message


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    db = None if request.param == "sqlite" else create_database(request.getfixturevalue("pg_server_dsn"))
    live = LiveServer(tmp_path / "server", db=db).start()
    live.stop()  # the test's own notifier writes first (one SQLite writer at a time)
    try:
        yield live
    finally:
        live.stop()
        if db is not None:
            drop_database(request.getfixturevalue("pg_server_dsn"), db)


async def _deliver(db: str, count: int, clock: datetime) -> list[str]:
    """Enqueue `count` custom notifications for the member and deliver them with the wall clock at `clock`."""
    store = open_store(db)
    await store.open()
    dispatcher = Dispatcher(ServerConfig(db=db, fetch_interval=0.2), store, {}, clock=lambda: clock)
    try:
        member = await store.get_user_by_username("member")
        assert member is not None
        msgs = [message(member) for _ in range(count)]
        await store.enqueue_messages(msgs)
        await dispatcher.start()

        async def all_sent() -> bool:
            return await store.count_messages("pending") + await store.count_messages("leased") == 0

        await wait_for(all_sent, within=60)
    finally:
        await dispatcher.stop()
        await store.close()
    return [str(m.id) for m in msgs]


async def test_a_notification_delivered_with_the_clock_behind_is_caught_up(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    now = now_utc()
    known = await _deliver(server.db_path, 30, now)  # more than a page: what the client already has
    with caplog.at_level(logging.WARNING, logger="server.store.inbox_clock"):
        [late] = await _deliver(server.db_path, 1, now - timedelta(hours=1))  # the clock stepped back
    assert "wall clock is" in caplog.text and "behind" in caplog.text
    server.start()
    async with CoderClient(server.url, server.member_token) as client:
        page = await client.list_inbox()
        assert page.notifications[0].id == late  # newest first, as delivered
        assert page.notifications[0].created_at > page.notifications[1].created_at
        result = await resync(client, set(known))
    assert [n.id for n in result.new] == [late]
    assert result.complete
