"""Helpers for API tests against a real server: clients, polling, direct seeding of the database."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx

from server.records import InboxNotification
from server.store import open_store
from tests.live_server import LiveServer

T = TypeVar("T")

API = "/api/v2"


def client(server: LiveServer, token: str | None = None) -> httpx.AsyncClient:
    """An async client for the server, authenticated with `token` (the owner's by default)."""
    return httpx.AsyncClient(base_url=server.url + API, headers=server.headers(token), timeout=30)


async def wait_for(check: Callable[[], Awaitable[T | None]], within: float = 10.0) -> T:
    """Poll `check` until it returns something truthy (delivery is asynchronous, as in Coder)."""
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def user_id(server: LiveServer, token: str) -> uuid.UUID:
    """The id of the token's user."""
    async with client(server, token) as c:
        return uuid.UUID((await c.get("/users/me")).json()["id"])


async def seed_inbox(
    server: LiveServer,
    owner: uuid.UUID,
    count: int,
    *,
    template_id: str = "a9d027b4-ac49-4fb1-9f6d-45af15f64e7a",
    targets: Sequence[uuid.UUID] | None = None,
    icon: str = "",
    title: str = "Notification {i}",
    read: bool = False,
) -> list[InboxNotification]:
    """Insert inbox rows straight into the server's database, one millisecond apart, oldest first."""
    start = datetime.now(UTC) - timedelta(seconds=count)
    rows = [
        InboxNotification(
            id=uuid.uuid4(),
            user_id=owner,
            template_id=uuid.UUID(template_id),
            targets=tuple(targets) if targets is not None else None,
            title=title.format(i=i),
            content=f"Content {i}",
            icon=icon,
            actions=({"label": "View", "url": f"http://example.com/{i}"},),
            read_at=start if read else None,
            created_at=start + timedelta(milliseconds=i),
        )
        for i in range(count)
    ]
    store = open_store(server.db_path)
    await store.open()
    try:
        await store.insert_inbox_notifications(rows)
    finally:
        await store.close()
    return rows


async def inbox(server: LiveServer, token: str | None = None, **params: Any) -> dict[str, Any]:
    """GET the inbox list and return the JSON."""
    async with client(server, token) as c:
        response = await c.get("/notifications/inbox", params=params)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data


async def message_count(server: LiveServer, status: str | None = None) -> int:
    """How many notification messages the server's queue holds (with `status`, only those), read from its
    database: positive evidence of what was queued, skipped or held, where a wait would only hope."""
    store = open_store(server.db_path)
    await store.open()
    try:
        return await store.count_messages(status)
    finally:
        await store.close()


async def notifier_looked(server: LiveServer) -> None:
    """Wait until the server's notifier has finished a round that began after this call: whatever was queued
    before it has been seen (delivered, held while paused, or inhibited), so its absence is evidence."""

    async def rounds() -> int:
        async with httpx.AsyncClient(base_url=server.url, headers=server.headers(), timeout=30) as c:
            response = await c.get("/inbox-server/status")
            assert response.status_code == 200, response.text
            return int(response.json()["notifier_rounds"])

    # A round in progress now may have passed the message by; the wake it leaves behind starts one more.
    start = await rounds()

    async def two_more() -> bool:
        return await rounds() >= start + 2

    await wait_for(two_more)


def message_rows(server: LiveServer) -> list[tuple[str, str, str]]:
    """(method, status, status_reason) of every queued message, oldest first, read straight from the database."""
    query = (
        "SELECT CAST(method AS TEXT), CAST(status AS TEXT), status_reason FROM notification_messages"
        " ORDER BY created_at, CAST(method AS TEXT)"
    )
    if server.db_path.startswith(("postgres://", "postgresql://")):
        import psycopg

        with psycopg.connect(server.db_path) as conn:
            return [(str(m), str(s), str(r)) for m, s, r in conn.execute(query.encode()).fetchall()]
    import sqlite3

    with contextlib.closing(sqlite3.connect(server.db_path, timeout=10)) as conn:
        return [(str(m), str(s), str(r)) for m, s, r in conn.execute(query).fetchall()]
