"""Inbox publish/subscribe over PostgreSQL LISTEN/NOTIFY, so every replica sees every new notification.

As Coder (spec 5.4): channel `inbox_notification:owner:<user uuid>`, payload
`{"kind":"new","inbox_notification":<InboxNotification JSON>}`. NOTIFY payloads must stay under 8,000
bytes, so a notification too large for that is published as `{"kind":"new","inbox_notification_id":...}`
and subscribers read the row.

Each store (replica) keeps ONE dedicated listener connection. A user's channel is LISTENed when its first
local subscriber arrives and UNLISTENed after the last one leaves. When the connection drops, every
listener hears `on_lost()` (events may have been missed) and the connection is re-established in the
background with backoff, LISTENing again on every channel that still has subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from server.records import InboxNotification
from server.store.base import InboxListener, InboxPubsub, PubsubUnavailableError, Unsubscribe
from server.store.pg_batch import GroupCommit
from server.wire import inbox_notification_json

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "inbox_notification:owner:"
MAX_PAYLOAD_BYTES = 7999  # PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more
SUBSCRIBE_TIMEOUT = 10.0  # how long subscribe() waits for a listener connection that is reconnecting
HEALTH_CHECK_INTERVAL = 15.0  # an idle listener connection is probed this often
BACKOFF_MIN = 0.05
BACKOFF_MAX = 5.0

Fetch = Callable[[uuid.UUID], Awaitable[InboxNotification | None]]


def channel_for(user_id: uuid.UUID) -> str:
    """The pubsub channel of one user's inbox (61 bytes, under PostgreSQL's 63-byte identifier limit)."""
    return f"{CHANNEL_PREFIX}{user_id}"


def listener_application_name(pid: int | None = None) -> str:
    """The application_name of a process's listener connection, as pg_stat_activity shows it."""
    return f"inbox-server listener {os.getpid() if pid is None else pid}"


def notification_payload(n: InboxNotification) -> dict[str, Any]:
    """The notification as Coder's InboxNotification JSON, icon as stored (watchers apply the fallback)."""
    return {**inbox_notification_json(n), "icon": n.icon}


def encode_event(n: InboxNotification) -> str:
    """The NOTIFY payload for a new notification: the whole row, or just its id when that is too big."""
    payload = json.dumps(
        {"kind": "new", "inbox_notification": notification_payload(n)},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    if len(payload.encode()) > MAX_PAYLOAD_BYTES:
        payload = json.dumps({"kind": "new", "inbox_notification_id": str(n.id)})
    return payload


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def decode_notification(data: dict[str, Any]) -> InboxNotification:
    """Turn Coder's InboxNotification JSON back into a record."""
    targets = data.get("targets")
    read_at = data.get("read_at")
    return InboxNotification(
        id=uuid.UUID(data["id"]),
        user_id=uuid.UUID(data["user_id"]),
        template_id=uuid.UUID(data["template_id"]),
        targets=None if targets is None else tuple(uuid.UUID(t) for t in targets),
        title=data["title"],
        content=data["content"],
        icon=data.get("icon", ""),
        actions=tuple(dict(a) for a in data.get("actions") or ()),
        read_at=None if read_at is None else _parse_time(read_at),
        created_at=_parse_time(data["created_at"]),
    )


class _Subscription:
    """One subscribe() call; identity matters, so the same listener may subscribe twice."""

    __slots__ = ("listener", "user_id")

    def __init__(self, user_id: uuid.UUID, listener: InboxListener) -> None:
        self.user_id = user_id
        self.listener = listener


class PgInboxPubsub(InboxPubsub):
    """LISTEN/NOTIFY pub/sub with one listener connection per store."""

    def __init__(self, dsn: str, pool: AsyncConnectionPool, fetch: Fetch) -> None:
        self._dsn = dsn
        self._pool = pool
        self._fetch = fetch  # reads a row announced by id only
        self._subs: dict[uuid.UUID, list[_Subscription]] = {}
        self._listening: set[uuid.UUID] = set()  # channels LISTENed on the current connection
        self._connected = False
        self._changed = asyncio.Condition()  # signalled after each reconcile and on connect/loss
        self._wake = asyncio.Event()  # the wanted channel set changed
        self._inbox: asyncio.Queue[psycopg.Notify] = asyncio.Queue()
        self._runner: asyncio.Task[None] | None = None
        self._deliverer: asyncio.Task[None] | None = None
        self._closed = False
        self.reconnects = 0  # connections established after the first (diagnostics and tests)
        self.backend_pid: int | None = None  # the listener connection's server process id
        self._publisher: GroupCommit[tuple[str, str], None] = GroupCommit(
            self._notify_many, self._notify_one, name="pg-notify"
        )

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the listener connection and wait until it is connected."""
        self._runner = asyncio.create_task(self._run(), name="pg-pubsub-listener")
        self._deliverer = asyncio.create_task(self._deliver_loop(), name="pg-pubsub-deliver")
        await self._wait_for(lambda: self._connected, SUBSCRIBE_TIMEOUT)

    async def close(self) -> None:
        """Send what is being published, stop listening and close the listener connection."""
        await self._publisher.drain()
        self._closed = True
        for task in (self._runner, self._deliverer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._runner = self._deliverer = None

    @property
    def connected(self) -> bool:
        """Whether the listener connection is up."""
        return self._connected

    # -- the interface -----------------------------------------------------------------------
    async def publish(self, notification: InboxNotification) -> None:
        """NOTIFY the owner's channel; every replica's listener (this one included) receives it.

        Concurrent publishes share one statement (and so one commit of the notify queue).
        """
        await self._publisher.submit((channel_for(notification.user_id), encode_event(notification)))

    async def notify_in(self, conn: psycopg.AsyncConnection[Any], notifications: list[InboxNotification]) -> None:
        """Queue the NOTIFY of new rows on `conn`, inside the caller's transaction: sent at its commit.

        This is how deliveries publish, so a row and its fan-out commit or fail together.
        """
        items = [(channel_for(n.user_id), encode_event(n)) for n in notifications]
        await conn.execute(
            "SELECT pg_notify(c, p) FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS u(c, p, n) ORDER BY n",
            ([c for c, _ in items], [p for _, p in items]),
        )

    async def _notify_one(self, item: tuple[str, str]) -> None:
        async with self._pool.connection() as conn:
            await conn.execute("SELECT pg_notify(%s, %s)", item)

    async def _notify_many(self, items: list[tuple[str, str]]) -> list[None]:
        # One statement, one transaction: the notifications are queued in this order and sent at commit.
        async with self._pool.connection() as conn:
            await conn.execute(
                "SELECT pg_notify(c, p) FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS u(c, p, n)",
                ([c for c, _ in items], [p for _, p in items]),
            )
        return [None] * len(items)

    async def subscribe(self, user_id: uuid.UUID, listener: InboxListener) -> Unsubscribe:
        """Add a listener; returns once the channel is LISTENed on a live connection."""
        if self._closed:
            raise PubsubUnavailableError("the store is closed")
        sub = _Subscription(user_id, listener)
        self._subs.setdefault(user_id, []).append(sub)
        done = False

        def unsubscribe() -> None:
            nonlocal done
            if done:
                return
            done = True
            subs = self._subs.get(user_id)
            if subs is None:
                return
            with contextlib.suppress(ValueError):
                subs.remove(sub)
            if not subs:
                del self._subs[user_id]
                self._wake.set()  # UNLISTEN in the background

        if user_id not in self._listening:
            self._wake.set()
            try:
                await self._wait_for(lambda: user_id in self._listening, SUBSCRIBE_TIMEOUT)
            except BaseException:
                unsubscribe()
                raise
        return unsubscribe

    # -- internals ---------------------------------------------------------------------------
    async def _wait_for(self, predicate: Callable[[], bool], seconds: float) -> None:
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(predicate), seconds)
            except TimeoutError:
                raise PubsubUnavailableError(
                    "the PostgreSQL listener connection is not available; try again later"
                ) from None

    async def _notify_changed(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _run(self) -> None:
        """Keep one listener connection alive, reconnecting with capped exponential backoff and jitter."""
        backoff = BACKOFF_MIN
        first = True
        while not self._closed:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self._dsn,
                    autocommit=True,
                    # Operators (and tests) find a replica's listener in pg_stat_activity by this name.
                    application_name=listener_application_name(),
                    # TCP keepalives find a peer that vanished without closing the socket.
                    keepalives=1,
                    keepalives_idle=10,
                    keepalives_interval=5,
                    keepalives_count=3,
                )
            except (psycopg.OperationalError, OSError) as exc:
                log.warning("pubsub: cannot connect the listener: %s; retrying in %.2fs", exc, backoff)
                await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            backoff = BACKOFF_MIN
            if not first:
                self.reconnects += 1
                log.info("pubsub: listener reconnected")
            first = False
            try:
                await self._serve(conn)
            except (psycopg.Error, OSError) as exc:
                if not self._closed:
                    log.warning("pubsub: listener connection lost: %s", exc)
            finally:
                was_listening = set(self._listening)
                self._connected = False
                self._listening.clear()
                self.backend_pid = None
                with contextlib.suppress(Exception):
                    await conn.close()
                if not self._closed:
                    self._fire_lost(was_listening)
                    await self._notify_changed()

    def _fire_lost(self, channels: set[uuid.UUID]) -> None:
        # Only live subscriptions lost events; one still waiting in subscribe() has not started yet.
        for user_id in channels:
            for sub in list(self._subs.get(user_id, ())):
                try:
                    sub.listener.on_lost()
                except Exception:
                    log.exception("pubsub: on_lost callback failed")

    async def _serve(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Own the connection: apply LISTEN/UNLISTEN changes, and otherwise wait for notifications.

        psycopg holds the connection lock while waiting in notifies(), so to run a LISTEN the waiting
        pump is cancelled (safe while idle: nothing is half-read), the commands run, and a new pump starts.
        Notifications that arrive in between are kept by psycopg and yielded by the next pump.
        """
        self.backend_pid = conn.info.backend_pid
        self._wake.clear()
        await self._reconcile(conn)
        self._connected = True
        await self._notify_changed()
        while True:
            pump = asyncio.create_task(self._pump(conn))
            waker = asyncio.create_task(self._wake.wait())
            try:
                done, _ = await asyncio.wait(
                    {pump, waker}, timeout=HEALTH_CHECK_INTERVAL, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                waker.cancel()
                if not pump.done():
                    pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pump
            if pump in done:
                pump.result()  # raises the connection error
                raise psycopg.OperationalError("listener stopped")
            self._wake.clear()
            if waker in done:
                await self._reconcile(conn)
            else:
                await conn.execute("SELECT 1")  # idle health probe

    async def _pump(self, conn: psycopg.AsyncConnection[Any]) -> None:
        async for notify in conn.notifies():
            self._inbox.put_nowait(notify)

    async def _reconcile(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """LISTEN on channels that gained their first subscriber, UNLISTEN those that lost the last."""
        wanted = set(self._subs)
        for user_id in wanted - self._listening:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel_for(user_id))))
            self._listening.add(user_id)
        for user_id in self._listening - wanted:
            await conn.execute(sql.SQL("UNLISTEN {}").format(sql.Identifier(channel_for(user_id))))
            self._listening.discard(user_id)
        await self._notify_changed()

    async def _deliver_loop(self) -> None:
        """Hand notifications to listeners in arrival order; rows announced by id are read first."""
        while True:
            notify = await self._inbox.get()
            try:
                await self._deliver(notify)
            except Exception:
                log.exception("pubsub: dropping a malformed event on %s", notify.channel)

    async def _deliver(self, notify: psycopg.Notify) -> None:
        if not notify.channel.startswith(CHANNEL_PREFIX):
            return
        user_id = uuid.UUID(notify.channel[len(CHANNEL_PREFIX) :])
        if not self._subs.get(user_id):
            return
        event = json.loads(notify.payload)
        if event.get("kind") != "new":
            return
        if "inbox_notification" in event:
            notification: InboxNotification | None = decode_notification(event["inbox_notification"])
        else:
            notification = await self._fetch(uuid.UUID(event["inbox_notification_id"]))
            if notification is None:
                return  # deleted before we could read it
        assert notification is not None
        for sub in list(self._subs.get(user_id, ())):
            try:
                sub.listener.on_notification(notification)
            except Exception:
                log.exception("pubsub: on_notification callback failed")
