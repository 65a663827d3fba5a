"""The inbox watch stream: one websocket, reconnected forever, exposed as an async iterator of events.

Coder's own web inbox never reconnects; this one does, with exponential backoff and full jitter, and
tells its consumer what state the connection is in:

    watcher = InboxWatcher(client, read_status="unread")
    async for item in watcher:
        match item:
            case Arrived(event): ...                      # a new notification (InboxEvent)
            case StateChanged(state, retry_in, error): ... # LIVE / CONNECTING / RECONNECTING / OFFLINE
            case Reconnected(): ...                        # live again after a drop: resync now

Nothing is replayed by the server on connect, so after `Reconnected` the consumer lists pages until it
meets known items (see `inbox_tui.api.resync`). A refused upgrade that retrying cannot fix (401, 403,
400 for bad filters, 404 on a server without the endpoint) ends the stream with OFFLINE and the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import random
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect, unix_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from inbox_tui.api.client import CoderClient
from inbox_tui.api.errors import ApiError, ConnectionFailed
from inbox_tui.api.models import InboxEvent
from inbox_tui.plain_http import USER_AGENT

BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
HEALTHY_AFTER = 10.0  # seconds a connection must stay up before the backoff starts over


class ConnectionState(enum.Enum):
    """What the watch connection is doing right now."""

    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class Arrived:
    """A new notification was delivered."""

    event: InboxEvent


@dataclass(frozen=True, slots=True)
class StateChanged:
    """The connection state changed.

    `retry_in` is the wait in seconds before the next attempt (RECONNECTING only) and `retry_at` the same
    moment on `time.monotonic()`'s clock, for a countdown. `error` says why the connection dropped or, with
    OFFLINE, why the watcher gave up (None when it was stopped).
    """

    state: ConnectionState
    retry_in: float | None = None
    error: Exception | None = None
    retry_at: float | None = None
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class Reconnected:
    """Live again after a drop; notifications may have arrived meanwhile, so resync."""


WatchItem = Arrived | StateChanged | Reconnected


class Backoff:
    """Exponential backoff with full jitter: the n-th delay is uniform in [0, min(cap, base * 2**n)]."""

    def __init__(self, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP, rng: random.Random | None = None) -> None:
        self.base = base
        self.cap = cap
        self.attempt = 0
        self._rng = rng or random.Random()

    def ceiling(self) -> float:
        """The upper bound of the next delay."""
        # min() before the power would overflow floats after ~1000 attempts; clamp the exponent.
        return min(self.cap, self.base * 2.0 ** min(self.attempt, 64))

    def next_delay(self) -> float:
        """The next delay in seconds; each call raises the ceiling until it reaches the cap."""
        delay = self._rng.uniform(0.0, self.ceiling())
        self.attempt += 1
        return delay

    def reset(self) -> None:
        """Start over (after a healthy connection)."""
        self.attempt = 0


def parse_frame(frame: str | bytes) -> InboxEvent | None:
    """Parse one watch frame (JSON, possibly with a trailing newline); None if it is not an event."""
    text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
    text = text.strip()
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("notification"), dict):
        return None
    try:
        return InboxEvent.from_json(data)
    except (KeyError, TypeError, ValueError):
        return None


def is_permanent(error: ApiError) -> bool:
    """A refused upgrade that retrying will not fix."""
    if isinstance(error, ConnectionFailed):
        return False
    return 400 <= error.status < 500 and error.status not in (408, 425, 429)


async def close_connection(ws: ClientConnection) -> None:
    """Close the stream politely, or drop the connection when that cannot finish.

    A close waits for the server's answer (up to close_timeout). When the wait is cancelled (the app quits:
    Textual cancels the worker, then the event loop's teardown cancels it again), or the close fails, the
    socket is aborted instead of being left open behind a connection nobody holds.
    """
    try:
        await ws.close()
    except asyncio.CancelledError:
        ws.transport.abort()
        raise
    except Exception:
        ws.transport.abort()


class InboxWatcher:
    """Watch the caller's inbox, reconnecting forever until stopped or refused for good."""

    def __init__(
        self,
        client: CoderClient,
        *,
        targets: Iterable[str] = (),
        templates: Iterable[str] = (),
        read_status: str = "all",
        format: str = "markdown",
        backoff: Backoff | None = None,
        healthy_after: float = HEALTHY_AFTER,
        open_timeout: float = 10.0,
        ping_interval: float | None = 20.0,
    ) -> None:
        self.client = client
        self.url = client.watch_url(targets=targets, templates=templates, read_status=read_status, format=format)
        # Errors name the URL the way codersdk does: the http(s) form.
        self.http_url = "http" + self.url[2:]
        self.backoff = backoff or Backoff()
        self.healthy_after = healthy_after
        self.open_timeout = open_timeout
        self.ping_interval = ping_interval
        self.state = ConnectionState.OFFLINE
        self._stopped = False
        self._wake = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._closing: asyncio.Future[None] | None = None

    def __aiter__(self) -> AsyncIterator[WatchItem]:
        return self.events()

    def stop(self) -> None:
        """End the stream: the iterator yields OFFLINE and finishes."""
        self._stopped = True
        self._wake.set()
        if self._ws is not None:
            # Closing makes the pending receive finish; the iterator notices `_stopped`.
            self._closing = asyncio.ensure_future(close_connection(self._ws))

    def retry_now(self) -> None:
        """Skip the rest of the current backoff wait (e.g. the user asked to reconnect)."""
        self._wake.set()

    def _state(
        self,
        state: ConnectionState,
        *,
        retry_in: float | None = None,
        retry_at: float | None = None,
        error: Exception | None = None,
        attempt: int = 0,
    ) -> StateChanged:
        self.state = state
        return StateChanged(state, retry_in=retry_in, error=error, retry_at=retry_at, attempt=attempt)

    def _dropped(self, reason: str) -> ConnectionFailed:
        return ConnectionFailed(method="GET", url=self.http_url, reason=reason)

    async def _open(self) -> ClientConnection:
        options: dict[str, Any] = {
            "additional_headers": self.client.auth_headers,
            "user_agent_header": USER_AGENT,
            "open_timeout": self.open_timeout,
            "ping_interval": self.ping_interval,
            "ping_timeout": self.ping_interval,
            "close_timeout": 2.0,
            "max_size": 4 * 1024 * 1024,
            "compression": None,
        }
        try:
            if self.client.uds is not None:
                return await unix_connect(self.client.uds, self.url, **options)
            return await connect(self.url, proxy=None if self.client.is_loopback else True, **options)
        except InvalidStatus as exc:
            response = exc.response
            raise ApiError.from_body(
                method="GET",
                url=self.http_url,
                status=response.status_code,
                content_type=response.headers.get("Content-Type", ""),
                body=bytes(response.body or b""),
            ) from exc
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI, EOFError) as exc:
            raise ConnectionFailed.from_exception("GET", self.http_url, exc) from exc

    async def _before_reconnect(self) -> None:
        """Run the client's hook (e.g. restart the local server); its failure is a retryable drop."""
        hook = self.client.before_reconnect
        if hook is None:
            return
        try:
            await hook()
        except ApiError:
            raise
        except Exception as exc:
            raise ConnectionFailed(method="GET", url=self.http_url, reason=str(exc)) from exc

    async def events(self) -> AsyncIterator[WatchItem]:
        """Yield arrivals and state changes until stopped or refused for good."""
        connected_before = False
        yield self._state(ConnectionState.CONNECTING)
        while not self._stopped:
            failure: Exception
            try:
                if connected_before or self.backoff.attempt > 0:
                    await self._before_reconnect()
                ws = await self._open()
            except ApiError as exc:
                if is_permanent(exc):
                    yield self._state(ConnectionState.OFFLINE, error=exc)
                    return
                failure = exc
            else:
                if self._stopped:  # stopped while the upgrade was in flight
                    await close_connection(ws)
                    break
                self._ws = ws
                opened = time.monotonic()
                failure = self._dropped("the server closed the stream")
                try:
                    yield self._state(ConnectionState.LIVE)
                    if connected_before:
                        yield Reconnected()
                    connected_before = True
                    async for frame in ws:
                        event = parse_frame(frame)
                        if event is not None:
                            yield Arrived(event)
                    if ws.close_code is not None:
                        reason = f"{ws.close_code} {ws.close_reason}".strip()
                        failure = self._dropped(f"the server closed the stream ({reason})")
                except ConnectionClosed as exc:
                    failure = self._dropped(f"connection lost ({exc})")
                except (OSError, TimeoutError) as exc:
                    failure = ConnectionFailed.from_exception("GET", self.http_url, exc)
                finally:
                    self._ws = None
                    await close_connection(ws)
                if time.monotonic() - opened >= self.healthy_after:
                    self.backoff.reset()
            if self._stopped:
                break
            attempt = self.backoff.attempt + 1
            delay = self.backoff.next_delay()
            # Cleared before yielding, so a retry_now() from the consumer's handler is not lost.
            self._wake.clear()
            yield self._state(
                ConnectionState.RECONNECTING,
                retry_in=delay,
                retry_at=time.monotonic() + delay,
                error=failure,
                attempt=attempt,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            if self._stopped:
                break
            yield self._state(ConnectionState.CONNECTING, attempt=attempt)
        yield self._state(ConnectionState.OFFLINE)


async def watch(
    client: CoderClient,
    *,
    targets: Iterable[str] = (),
    templates: Iterable[str] = (),
    read_status: str = "all",
    format: str = "markdown",
) -> AsyncIterator[WatchItem]:
    """Shorthand for iterating an `InboxWatcher` with these filters."""
    watcher = InboxWatcher(client, targets=targets, templates=templates, read_status=read_status, format=format)
    async for item in watcher:
        yield item
