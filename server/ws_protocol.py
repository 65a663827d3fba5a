"""uvicorn's websocket protocol, adjusted for the inbox watch socket.

ASGI has no ping API and no way to say "close now, without waiting for the client". uvicorn accepts a
protocol class (`uvicorn.Config(ws=...)`), so this subclass of its websockets sans-I/O implementation
adds what the watch endpoint needs:

- Liveness as Coder does it: the application asks for pings through the `inbox.liveness` scope extension
  (`scope["extensions"]["inbox.liveness"]["configure"](interval, timeout)`, before accepting). A ping not
  answered in time closes the socket with 1001 `liveness probe failed`.
- A `websocket.close` from the application is written at once, even when the client stopped reading and
  the send buffer is full (uvicorn would wait for the buffer to drain first, i.e. forever). If the client
  does not answer the close in time the connection is aborted, so its buffer is freed.
- Server shutdown closes with 1001 (going away) instead of uvicorn's 1012.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

from uvicorn._types import ASGISendEvent
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.exceptions import InvalidState
from websockets.http11 import Request
from websockets.server import ServerProtocol

LIVENESS_EXTENSION = "inbox.liveness"
CLOSE_GOING_AWAY = 1001
REASON_LIVENESS = "liveness probe failed"
REASON_SHUTDOWN = "server shutting down"
# How long a closed connection may wait for the client's closing handshake before it is aborted.
CLOSE_TIMEOUT = 5.0
SHUTDOWN_GRACE = 1.0
# Kernel send buffer per watch socket (Linux doubles it). Frames are small; a backlog waits in the
# watcher's bounded queue, where the hub can see it, not in the kernel.
KERNEL_SEND_BUFFER = 64 * 1024
CLIENT_MESSAGE_LIMIT = 4 * 1024


class WatchWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O websocket protocol with application-driven liveness and non-blocking close."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.close_timeout = CLOSE_TIMEOUT
        # No permessage-deflate (frames are a few hundred bytes; zlib state costs ~40 KB per socket), and
        # a small message limit: clients have nothing to send, so they cannot make the server buffer much.
        self.conn = ServerProtocol(extensions=[], max_size=CLIENT_MESSAGE_LIMIT, logger=self.logger)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Cap the kernel send buffer, so a client that stops reading pins little kernel memory either."""
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError, AttributeError):
                # Setting it also turns Linux's send-buffer autotuning off for this socket (up to 4 MiB).
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, KERNEL_SEND_BUFFER)

    # -- handshake: offer the liveness extension -------------------------------------------------------
    def handle_connect(self, event: Request) -> None:
        """Build the scope as uvicorn does, then add our extension (the app task has not run yet)."""
        super().handle_connect(event)
        if self.response.status_code == 101:
            self.scope["extensions"][LIVENESS_EXTENSION] = {"configure": self.configure_liveness}

    def configure_liveness(self, interval: float | None, timeout: float | None) -> None:
        """Ping every `interval` seconds once accepted; close with 1001 if a pong takes over `timeout`."""
        self.ping_interval = interval if interval and interval > 0 else None
        self.ping_timeout = timeout if timeout and timeout > 0 else None
        if self.handshake_complete and not self.close_sent and self.ping_timer is None:
            self.start_keepalive()

    def keepalive_timeout(self) -> None:
        """A ping went unanswered: close with 1001 `liveness probe failed` (Coder's WSWatcher)."""
        self.pong_timer = None
        self.pending_ping_payload = None
        self._close_now(CLOSE_GOING_AWAY, REASON_LIVENESS)

    # -- close -----------------------------------------------------------------------------------------
    async def send(self, message: ASGISendEvent) -> None:
        """As uvicorn, except that a close after the handshake never waits for the send buffer."""
        if (
            message["type"] == "websocket.close"
            and self.handshake_complete
            and self.initial_response is None
            and not self.close_sent
        ):
            code = int(message.get("code", 1000) or 1000)
            reason = str(message.get("reason", "") or "")
            self._close_now(code, reason)
            return
        await super().send(message)
        if message["type"] == "websocket.http.response.body" and not message.get("more_body", False):
            # The request was answered with plain HTTP (e.g. a 400 before the upgrade): that completes
            # the exchange, so uvicorn must not log "returned without completing handshake".
            self.handshake_complete = True

    def shutdown(self) -> None:
        """Server shutdown: 1001 to every open socket, then close (abort if the client is stuck)."""
        if self.handshake_complete and self.initial_response is None and not self.close_sent:
            self._close_now(CLOSE_GOING_AWAY, REASON_SHUTDOWN, timeout=SHUTDOWN_GRACE)
            return
        super().shutdown()

    def _close_now(self, code: int, reason: str, timeout: float | None = None) -> None:
        if self.close_sent or self.disconnected or self.transport.is_closing():
            return
        self.stop_keepalive()
        # Tell the application first, so its receive() returns and it cleans up.
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        with contextlib.suppress(InvalidState):  # the client's close already crossed ours
            self.conn.send_close(code, reason)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        if self.read_paused:
            # Keep reading so the client's closing handshake is seen.
            self.read_paused = False
            self.transport.resume_reading()
        if self.close_timer is not None:
            self.close_timer.cancel()
        self.close_timer = self.loop.call_later(self.close_timeout if timeout is None else timeout, self._abort)

    def _abort(self) -> None:
        # transport.close() would wait for a buffer a stalled client never drains; abort frees it.
        self.close_timer = None
        if not self.disconnected:
            self.transport.abort()
