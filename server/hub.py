"""The watcher hub: fans new inbox notifications out to the open watch sockets.

Data flows one way: the store's pub/sub calls a user's channel, the channel's worker builds each frame
once (unread count, icon, format) and offers it to every matching watcher of that user, and each
watcher's own sender task writes it to its socket.

Why it is shaped like this:
- One subscription per user, shared by that user's watchers, made before the socket is accepted, so a
  notification delivered while the handshake is in flight is not lost.
- Each watcher has a bounded queue and exactly one sender task that sends with a timeout. A watcher whose
  queue overflows or whose send times out is closed with 1013 (try again later) and forgotten. Nothing
  ever awaits a socket on behalf of anyone else, so one client that stops reading cannot slow the
  others, and what the server holds for a client is bounded by its queue, whatever the client does.
- Liveness (ping/pong, 1001 on a missed pong) lives in the websocket protocol (`server.ws_protocol`),
  which is where pongs arrive; the hub re-checks every watcher's session at the same interval so a
  revoked token or a deleted user closes the socket even when another process did the revoking.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from server.asgi import Send
from server.config import ServerConfig
from server.notify.plaintext import plaintext_from_markdown
from server.records import InboxFilter, InboxNotification
from server.store.base import Store, Unsubscribe
from server.wire import encode_json, inbox_notification_json

log = logging.getLogger(__name__)

# WebSocket close codes (RFC 6455 section 7.4.1 and the IANA registry).
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_POLICY_VIOLATION = 1008
CLOSE_INTERNAL_ERROR = 1011
CLOSE_TRY_AGAIN_LATER = 1013

REASON_SHUTDOWN = "server shutting down"
REASON_BEHIND = "watcher fell behind"
REASON_SEND_TIMEOUT = "send timed out"
REASON_LOST = "subscription lost"
REASON_SESSION = "session no longer valid"

# Notifications waiting for a user's worker. Only the producer can fill this (the worker needs one
# unread-count query per batch), never a client; past it the channel is treated as lost.
INBOUND_LIMIT = 10_000

Revalidate = Callable[[], Awaitable[bool]]


class HubClosedError(Exception):
    """The hub is shutting down and takes no new watchers."""


class WatcherLimitError(Exception):
    """The user already holds as many watch sockets as `--max-watchers-per-user` allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} watchers per user")
        self.limit = limit


def build_frame(notification: InboxNotification, unread_count: int, *, plaintext: bool) -> str:
    """One watch message: Coder's GetInboxNotificationResponse JSON followed by a newline."""
    body = inbox_notification_json(notification)
    if plaintext:
        body["title"] = plaintext_from_markdown(body["title"])
        body["content"] = plaintext_from_markdown(body["content"])
    # json.Encoder.Encode: Go's HTML-safe escaping, then "\n".
    return encode_json({"notification": body, "unread_count": unread_count}).decode() + "\n"


class Watcher:
    """One open watch socket: its filter, format, bounded queue and sender task."""

    __slots__ = (
        "auth_key",
        "close_code",
        "close_reason",
        "closed",
        "filter",
        "id",
        "plaintext",
        "queue",
        "revalidate",
        "send",
        "sender",
        "user_id",
    )

    def __init__(
        self,
        watcher_id: int,
        user_id: uuid.UUID,
        flt: InboxFilter,
        *,
        plaintext: bool,
        send: Send,
        queue_size: int,
        revalidate: Revalidate | None,
        auth_key: Hashable,
    ) -> None:
        self.id = watcher_id
        self.user_id = user_id
        self.filter = flt
        self.plaintext = plaintext
        self.send = send
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=max(1, queue_size))
        self.sender: asyncio.Task[None] | None = None
        self.closed = False
        self.close_code: int | None = None
        self.close_reason = ""
        self.revalidate = revalidate
        self.auth_key = auth_key

    def __repr__(self) -> str:
        return f"<Watcher {self.id} user={self.user_id} queued={self.queue.qsize()} closed={self.closed}>"


class _UserChannel:
    """A user's subscription, shared by that user's watchers. It is the store's InboxListener."""

    def __init__(self, hub: Hub, user_id: uuid.UUID) -> None:
        self.hub = hub
        self.user_id = user_id
        self.watchers: dict[int, Watcher] = {}
        self.unsubscribe: Unsubscribe | None = None
        self.ready: asyncio.Future[None] = hub.loop.create_future()
        self.inbound: deque[InboxNotification] = deque()
        self.wake = asyncio.Event()
        self.worker: asyncio.Task[None] | None = None
        self.dead = False

    # -- InboxListener (called by the store's pub/sub; must not block) ---------------------------------
    def on_notification(self, notification: InboxNotification) -> None:
        """Queue the notification for this user's worker."""
        if threading.get_ident() != self.hub.loop_thread:
            # A pub/sub backend calling from its own thread: hop onto the event loop.
            self.hub.loop.call_soon_threadsafe(self.on_notification, notification)
            return
        if self.dead:
            return
        if len(self.inbound) >= INBOUND_LIMIT:
            log.warning("user %s: %d notifications pending; closing their watchers", self.user_id, INBOUND_LIMIT)
            self.hub._close_channel(self, CLOSE_TRY_AGAIN_LATER, REASON_BEHIND)
            return
        self.inbound.append(notification)
        self.wake.set()

    def on_lost(self) -> None:
        """The subscription broke: events may have been missed, so the watchers must resync."""
        if threading.get_ident() != self.hub.loop_thread:
            self.hub.loop.call_soon_threadsafe(self.on_lost)
            return
        self.hub._close_channel(self, CLOSE_TRY_AGAIN_LATER, REASON_LOST)

    # -- worker ----------------------------------------------------------------------------------------
    async def run(self) -> None:
        while not self.dead:
            await self.wake.wait()
            self.wake.clear()
            while self.inbound and not self.dead:
                batch = list(self.inbound)
                self.inbound.clear()
                try:
                    # Total, unfiltered, read after the rows were committed (so it includes them).
                    unread = await self.hub.store.count_unread(self.user_id)
                except Exception:
                    log.exception("user %s: counting unread notifications failed", self.user_id)
                    self.hub._close_channel(self, CLOSE_INTERNAL_ERROR, "unread count failed")
                    return
                for notification in batch:
                    if self.dead:
                        return
                    if self._fan_out(notification, unread):
                        await asyncio.sleep(0)  # let the senders drain before queueing more

    def _fan_out(self, notification: InboxNotification, unread: int) -> bool:
        """Offer one notification to each matching watcher; True when some queue is filling up."""
        frames: dict[bool, str] = {}
        filling = False
        for watcher in list(self.watchers.values()):
            if watcher.closed or not watcher.filter.matches(notification):
                continue
            frame = frames.get(watcher.plaintext)
            if frame is None:
                frame = frames[watcher.plaintext] = build_frame(notification, unread, plaintext=watcher.plaintext)
            try:
                watcher.queue.put_nowait(frame)
            except asyncio.QueueFull:
                self.hub.close(watcher, CLOSE_TRY_AGAIN_LATER, REASON_BEHIND)
                continue
            if watcher.queue.qsize() * 2 > watcher.queue.maxsize:
                filling = True
        return filling


class Hub:
    """Every watcher of this server process."""

    def __init__(self, store: Store, config: ServerConfig) -> None:
        self.store = store
        self.config = config
        self.send_timeout = config.watch_send_timeout
        self.queue_size = config.watch_queue_size
        self.max_per_user = config.max_watchers_per_user  # <= 0: unlimited
        # Sessions are re-checked at the liveness interval (a revoked token closes within one period).
        self.recheck_interval = config.watch_ping_interval
        self._channels: dict[uuid.UUID, _UserChannel] = {}
        self._ids = itertools.count(1)
        self._closers: set[asyncio.Task[None]] = set()
        self._auditor: asyncio.Task[None] | None = None
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread = threading.get_ident()
        self.evictions = 0  # watchers closed with 1013 (diagnostics, tests, benchmarks)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the hub runs on."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self.loop_thread = threading.get_ident()
        return self._loop

    # -- lifecycle -----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind to the running loop and start the periodic session check."""
        _ = self.loop
        if self.recheck_interval and self.recheck_interval > 0:
            self._auditor = asyncio.create_task(self._audit_sessions(), name="watch-session-audit")

    async def close_all(self, code: int = CLOSE_GOING_AWAY, reason: str = REASON_SHUTDOWN) -> None:
        """Graceful shutdown: close every watcher (1001 by default) and refuse new ones."""
        self._closing = True
        if self._auditor is not None:
            self._auditor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._auditor
            self._auditor = None
        for channel in list(self._channels.values()):
            self._close_channel(channel, code, reason)
        if self._closers:
            await asyncio.wait(set(self._closers), timeout=self.send_timeout + 1)

    def close_user(self, user_id: uuid.UUID, code: int = CLOSE_POLICY_VIOLATION, reason: str = REASON_SESSION) -> int:
        """Close every watcher of one user (token revoked, user deleted). Returns how many were open."""
        channel = self._channels.get(user_id)
        if channel is None:
            return 0
        count = len(channel.watchers)
        self._close_channel(channel, code, reason)
        return count

    # -- watchers ------------------------------------------------------------------------------------
    @property
    def watcher_count(self) -> int:
        """How many watchers are registered."""
        return sum(len(c.watchers) for c in self._channels.values())

    def user_watcher_count(self, user_id: uuid.UUID) -> int:
        """How many watchers one user has open."""
        channel = self._channels.get(user_id)
        return 0 if channel is None else len(channel.watchers)

    async def register(
        self,
        user_id: uuid.UUID,
        flt: InboxFilter,
        *,
        plaintext: bool,
        send: Send,
        revalidate: Revalidate | None = None,
        auth_key: Hashable = None,
    ) -> Watcher:
        """Subscribe a new watcher; returns once its user's channel is live (call before accepting).

        Notifications that arrive from now on are queued for it; `start_sending` (after the socket was
        accepted) begins writing them.
        """
        if self._closing:
            raise HubClosedError("the server is shutting down")
        # Checked and counted with no await in between, so concurrent upgrades cannot overshoot.
        if self.max_per_user > 0 and self.user_watcher_count(user_id) >= self.max_per_user:
            raise WatcherLimitError(self.max_per_user)
        watcher = Watcher(
            next(self._ids),
            user_id,
            flt,
            plaintext=plaintext,
            send=send,
            queue_size=self.queue_size,
            revalidate=revalidate,
            auth_key=auth_key if auth_key is not None else ("watcher", user_id),
        )
        channel = self._channels.get(user_id)
        if channel is None:
            channel = _UserChannel(self, user_id)
            self._channels[user_id] = channel
            channel.watchers[watcher.id] = watcher
            try:
                channel.unsubscribe = await self.store.pubsub.subscribe(user_id, channel)
            except BaseException as exc:
                self._drop_channel(channel)
                channel.ready.set_exception(exc)
                channel.ready.exception()  # retrieved here, so no "never retrieved" warning
                raise
            channel.worker = asyncio.create_task(channel.run(), name=f"watch-user-{user_id}")
            channel.ready.set_result(None)
        else:
            channel.watchers[watcher.id] = watcher
            try:
                await asyncio.shield(channel.ready)
            except BaseException:
                channel.watchers.pop(watcher.id, None)
                raise
        if channel.dead:
            # Closed (lost, shut down) while we waited: this watcher was never live.
            channel.watchers.pop(watcher.id, None)
            raise HubClosedError("the subscription was closed")
        return watcher

    def start_sending(self, watcher: Watcher) -> None:
        """Start the watcher's sender task (after `websocket.accept` was sent)."""
        if watcher.closed or watcher.sender is not None:
            return
        watcher.sender = asyncio.create_task(self._sender(watcher), name=f"watch-sender-{watcher.id}")

    def unregister(self, watcher: Watcher) -> None:
        """Forget a watcher whose socket is gone (idempotent). Does not send anything."""
        watcher.closed = True
        self._detach(watcher)
        sender = watcher.sender
        if sender is not None and sender is not asyncio.current_task():
            sender.cancel()

    def close(self, watcher: Watcher, code: int, reason: str = "") -> None:
        """Close one watcher's socket with `code` and forget it. Never waits for the client."""
        if watcher.closed:
            return
        watcher.close_code = code
        watcher.close_reason = reason
        if code == CLOSE_TRY_AGAIN_LATER:
            # Worth a warning: a client that cannot keep up (or a producer outrunning the hub).
            self.evictions += 1
            log.warning(
                "watch: evicted watcher %s of user %s with 1013 (%s, %d frames queued)",
                watcher.id,
                watcher.user_id,
                reason,
                watcher.queue.qsize(),
            )
        self.unregister(watcher)
        closer = self.loop.create_task(self._send_close(watcher, code, reason), name=f"watch-close-{watcher.id}")
        self._closers.add(closer)
        closer.add_done_callback(self._closers.discard)

    # -- internals -----------------------------------------------------------------------------------
    async def _sender(self, watcher: Watcher) -> None:
        queue = watcher.queue
        send = watcher.send
        try:
            while not watcher.closed:
                frame = await queue.get()
                async with asyncio.timeout(self.send_timeout):
                    await send({"type": "websocket.send", "text": frame})
        except TimeoutError:
            self.close(watcher, CLOSE_TRY_AGAIN_LATER, REASON_SEND_TIMEOUT)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # The client went away mid-send; the handler sees the disconnect and unregisters too.
            log.debug("watcher %s: send failed: %r", watcher.id, exc)
            self.unregister(watcher)

    async def _send_close(self, watcher: Watcher, code: int, reason: str) -> None:
        # Bounded: a close must not wait forever on a client that stopped reading (our websocket
        # protocol writes close frames without waiting, and aborts the connection if unanswered).
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.send_timeout):
                await watcher.send({"type": "websocket.close", "code": code, "reason": reason})

    def _detach(self, watcher: Watcher) -> None:
        channel = self._channels.get(watcher.user_id)
        if channel is None or channel.watchers.pop(watcher.id, None) is None:
            return
        if not channel.watchers:
            self._drop_channel(channel)

    def _drop_channel(self, channel: _UserChannel) -> None:
        """Unsubscribe a channel that has no watchers left."""
        channel.dead = True
        if self._channels.get(channel.user_id) is channel:
            del self._channels[channel.user_id]
        if channel.unsubscribe is not None:
            try:
                channel.unsubscribe()
            except Exception:
                log.exception("user %s: unsubscribe failed", channel.user_id)
            channel.unsubscribe = None
        if channel.worker is not None and channel.worker is not asyncio.current_task():
            channel.worker.cancel()
        channel.inbound.clear()

    def _close_channel(self, channel: _UserChannel, code: int, reason: str) -> None:
        for watcher in list(channel.watchers.values()):
            self.close(watcher, code, reason)
        self._drop_channel(channel)

    async def _audit_sessions(self) -> None:
        """Close the watchers whose session was revoked or whose user was deleted."""
        while True:
            await asyncio.sleep(self.recheck_interval)
            groups: dict[Hashable, list[Watcher]] = {}
            for channel in list(self._channels.values()):
                for watcher in channel.watchers.values():
                    if watcher.revalidate is not None:
                        groups.setdefault(watcher.auth_key, []).append(watcher)
            for watchers in groups.values():
                check = watchers[0].revalidate
                assert check is not None
                try:
                    valid = await check()
                except Exception:
                    log.exception("session check failed; keeping the watchers open")
                    continue
                if not valid:
                    for watcher in watchers:
                        self.close(watcher, CLOSE_POLICY_VIOLATION, REASON_SESSION)

    def debug_state(self) -> dict[str, Any]:
        """Counts for diagnostics and benchmarks."""
        return {
            "users": len(self._channels),
            "watchers": self.watcher_count,
            "queued": sum(w.queue.qsize() for c in self._channels.values() for w in c.watchers.values()),
            "evictions": self.evictions,
        }
