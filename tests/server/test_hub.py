"""The watcher hub on a real SQLite store and its in-process pub/sub, with stand-in socket peers.

The peers stand in for websocket clients (an ASGI `send` that records, or one that never returns, as a
client that stopped reading behaves); everything of ours is real.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from server.config import ServerConfig
from server.hub import INBOUND_LIMIT, Hub, HubClosedError
from server.records import TEMPLATE_CUSTOM_NOTIFICATION, InboxFilter, InboxNotification
from server.store.base import InboxListener, PubsubUnavailableError, Unsubscribe
from server.store.local_pubsub import LocalPubsub
from server.store.sqlite import SqliteStore

SEND_TIMEOUT = 0.3


class Peer:
    """An ASGI `send` for one socket. A stalled peer never completes a data send (full TCP window)."""

    def __init__(self, *, stalled: bool = False) -> None:
        self.stalled = stalled
        self.frames: list[str] = []
        self.closed: tuple[int, str] | None = None
        self.closed_at: float | None = None
        self.got = asyncio.Event()
        self.closed_event = asyncio.Event()

    async def send(self, message: Any) -> None:
        if message["type"] == "websocket.close":
            self.closed = (message["code"], message.get("reason", ""))
            self.closed_at = time.monotonic()
            self.closed_event.set()
            return
        if self.stalled:
            await asyncio.Event().wait()
        self.frames.append(message["text"])
        self.got.set()

    async def wait_frames(self, count: int, within: float = 10.0) -> list[dict[str, Any]]:
        async with asyncio.timeout(within):
            while len(self.frames) < count:
                self.got.clear()
                await self.got.wait()
        return [json.loads(f) for f in self.frames]

    async def wait_closed(self, within: float = 5.0) -> tuple[int, str]:
        async with asyncio.timeout(within):
            await self.closed_event.wait()
        assert self.closed is not None
        return self.closed


async def make_hub(store: SqliteStore, **config: Any) -> Hub:
    values: dict[str, Any] = {"watch_send_timeout": SEND_TIMEOUT, "watch_queue_size": 16, "watch_ping_interval": 0}
    values.update(config)
    hub = Hub(store, ServerConfig(db=":unused:", **values))
    await hub.start()
    return hub


async def deliver(store: SqliteStore, user_id: uuid.UUID, title: str) -> InboxNotification:
    """Insert a row and publish it, as the notifier's inbox delivery does."""
    n = InboxNotification(
        id=uuid.uuid4(),
        user_id=user_id,
        template_id=TEMPLATE_CUSTOM_NOTIFICATION,
        targets=None,
        title=title,
        content="c",
        icon="",
        actions=(),
        read_at=None,
        created_at=datetime.now(UTC),
    )
    await store.insert_inbox_notifications([n])
    await store.pubsub.publish(n)
    return n


async def new_user(store: SqliteStore) -> uuid.UUID:
    name = f"u{uuid.uuid4().hex[:10]}"
    user = await store.create_user(username=name, email=f"{name}@example.com", name=name, roles=["member"])
    return user.id


async def test_frames_published_before_accept_are_kept(store: SqliteStore) -> None:
    hub = await make_hub(store)
    user = await new_user(store)
    peer = Peer()
    watcher = await hub.register(user, InboxFilter(), plaintext=False, send=peer.send)
    # Delivered while the handshake is still in flight: queued, not lost.
    await deliver(store, user, "early")
    await asyncio.sleep(0.05)
    assert peer.frames == []
    hub.start_sending(watcher)
    frames = await peer.wait_frames(1)
    assert frames[0]["notification"]["title"] == "early"
    assert frames[0]["unread_count"] == 1
    assert peer.frames[0].endswith("\n")
    await hub.close_all()


async def test_one_subscription_per_user_released_by_the_last_watcher(store: SqliteStore) -> None:
    hub = await make_hub(store)
    pubsub = store.pubsub
    assert isinstance(pubsub, LocalPubsub)
    user = await new_user(store)
    watchers = [await hub.register(user, InboxFilter(), plaintext=False, send=Peer().send) for _ in range(3)]
    assert pubsub.listener_count(user) == 1
    for w in watchers[:-1]:
        hub.unregister(w)
    assert pubsub.listener_count(user) == 1
    hub.unregister(watchers[-1])
    assert pubsub.listener_count(user) == 0
    assert hub.watcher_count == 0
    await hub.close_all()


async def test_stalled_watcher_is_evicted_and_never_delays_the_others(store: SqliteStore) -> None:
    hub = await make_hub(store, watch_queue_size=1000)
    user = await new_user(store)
    stalled, healthy = Peer(stalled=True), [Peer() for _ in range(5)]
    for peer in [stalled, *healthy]:
        hub.start_sending(await hub.register(user, InboxFilter(), plaintext=False, send=peer.send))

    started = time.monotonic()
    for i in range(200):
        await deliver(store, user, f"n{i}")
    for peer in healthy:
        frames = await peer.wait_frames(200)
        assert [f["notification"]["title"] for f in frames] == [f"n{i}" for i in range(200)]
    assert await stalled.wait_closed() == (1013, "send timed out")
    assert stalled.closed_at is not None and stalled.closed_at - started <= 2 * SEND_TIMEOUT + 1.0
    assert hub.user_watcher_count(user) == 5
    assert hub.evictions == 1
    await hub.close_all()


async def test_queue_overflow_is_evicted_with_1013(store: SqliteStore) -> None:
    # A send timeout far away: only the bounded queue can catch this watcher.
    hub = await make_hub(store, watch_queue_size=4, watch_send_timeout=60)
    user = await new_user(store)
    stalled, healthy = Peer(stalled=True), Peer()
    for peer in (stalled, healthy):
        hub.start_sending(await hub.register(user, InboxFilter(), plaintext=False, send=peer.send))
    for i in range(20):
        await deliver(store, user, f"n{i}")
        await asyncio.sleep(0.005)  # a healthy reader keeps up with this pace
    await healthy.wait_frames(20)
    assert await stalled.wait_closed() == (1013, "watcher fell behind")
    await hub.close_all()


async def test_lost_subscription_closes_the_users_watchers(store: SqliteStore) -> None:
    hub = await make_hub(store)
    user, other = await new_user(store), await new_user(store)
    peers = [Peer(), Peer()]
    for peer in peers:
        hub.start_sending(await hub.register(user, InboxFilter(), plaintext=False, send=peer.send))
    other_peer = Peer()
    hub.start_sending(await hub.register(other, InboxFilter(), plaintext=False, send=other_peer.send))
    channel = hub._channels[user]
    channel.on_lost()
    for peer in peers:
        assert await peer.wait_closed() == (1013, "subscription lost")
    assert other_peer.closed is None
    await hub.close_all()


async def test_close_all_says_going_away_and_refuses_newcomers(store: SqliteStore) -> None:
    hub = await make_hub(store)
    user = await new_user(store)
    peers = [Peer(), Peer(stalled=True)]
    for peer in peers:
        hub.start_sending(await hub.register(user, InboxFilter(), plaintext=False, send=peer.send))
    await hub.close_all()
    assert [p.closed for p in peers] == [(1001, "server shutting down")] * 2
    with pytest.raises(HubClosedError):
        await hub.register(user, InboxFilter(), plaintext=False, send=Peer().send)


async def test_close_user_and_session_recheck(store: SqliteStore) -> None:
    hub = await make_hub(store, watch_ping_interval=0.05)
    user = await new_user(store)
    valid = {"yes": True}

    async def check() -> bool:
        return valid["yes"]

    kept, revoked = Peer(), Peer()
    hub.start_sending(await hub.register(user, InboxFilter(), plaintext=False, send=kept.send, auth_key="a"))
    hub.start_sending(
        await hub.register(user, InboxFilter(), plaintext=False, send=revoked.send, revalidate=check, auth_key="b")
    )
    valid["yes"] = False
    assert await revoked.wait_closed() == (1008, "session no longer valid")
    assert kept.closed is None
    assert hub.close_user(user) == 1
    assert await kept.wait_closed() == (1008, "session no longer valid")
    await hub.close_all()


async def test_a_backlog_past_the_limit_closes_the_users_watchers(store: SqliteStore) -> None:
    hub = await make_hub(store)
    user, other = await new_user(store), await new_user(store)
    peers = [Peer(), Peer()]
    for peer in peers:
        hub.start_sending(await hub.register(user, InboxFilter(), plaintext=False, send=peer.send))
    other_peer = Peer()
    hub.start_sending(await hub.register(other, InboxFilter(), plaintext=False, send=other_peer.send))
    pubsub = store.pubsub
    assert isinstance(pubsub, LocalPubsub)
    row = await deliver(store, user, "burst")
    # A producer outrunning the hub: published with no await that yields, so the user's worker never runs.
    for _ in range(INBOUND_LIMIT + 1):
        await pubsub.publish(row)
    for peer in peers:
        assert await peer.wait_closed() == (1013, "watcher fell behind")
    assert hub.evictions == 2
    assert pubsub.listener_count(user) == 0  # the backlog is dropped with the subscription
    assert hub.user_watcher_count(user) == 0
    await deliver(store, other, "unaffected")
    assert (await other_peer.wait_frames(1))[0]["notification"]["title"] == "unaffected"
    assert other_peer.closed is None
    await hub.close_all()


class FlakyPubsub(LocalPubsub):
    """The in-process pub/sub, except that the next subscribes raise the scripted errors (once `gate` opens)."""

    def __init__(self) -> None:
        super().__init__()
        self.failures: list[Exception] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.entered = asyncio.Event()

    async def subscribe(self, user_id: uuid.UUID, listener: InboxListener) -> Unsubscribe:
        """Fail with the next scripted error, if any; subscribe for real otherwise."""
        self.entered.set()
        await self.gate.wait()
        if self.failures:
            raise self.failures.pop(0)
        return await super().subscribe(user_id, listener)


@pytest.mark.parametrize(
    "error", [PubsubUnavailableError("listener reconnecting"), RuntimeError("boom")], ids=["unavailable", "crash"]
)
async def test_a_failed_subscribe_fails_every_waiting_watcher_and_leaves_nothing(
    tmp_path: Path, error: Exception
) -> None:
    store = SqliteStore(str(tmp_path / "flaky.db"))
    pubsub = store.pubsub = FlakyPubsub()  # the one seam: subscribe fails as scripted
    await store.open()
    try:
        hub = await make_hub(store)
        user = await new_user(store)
        pubsub.failures.append(error)
        pubsub.gate.clear()
        first = asyncio.create_task(hub.register(user, InboxFilter(), plaintext=False, send=Peer().send))
        await pubsub.entered.wait()  # the first watcher is subscribing the user's channel
        second = asyncio.create_task(hub.register(user, InboxFilter(), plaintext=False, send=Peer().send))
        await asyncio.sleep(0)  # the second one waits for that same subscription
        assert hub.user_watcher_count(user) == 2
        pubsub.gate.set()
        for task in (first, second):
            with pytest.raises(type(error)):
                await task
        assert hub.watcher_count == 0 and pubsub.listener_count() == 0
        # Nothing is left behind: the next watcher subscribes afresh and is served.
        peer = Peer()
        hub.start_sending(await hub.register(user, InboxFilter(), plaintext=False, send=peer.send))
        await deliver(store, user, "after")
        assert (await peer.wait_frames(1))[0]["notification"]["title"] == "after"
        assert pubsub.listener_count(user) == 1
        await hub.close_all()
    finally:
        await store.close()
