"""Request log lines at debug level (`--verbose`): one per HTTP request and per websocket session.

Wrapped around the app only when debug logging is on, so a server at info level pays nothing. A line
names the route pattern (`/api/v2/users/{user}`), never the raw path or the query string, which may
carry a session token.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from server.asgi import USER_ID_KEY, ASGIApp, Message, Receive, Scope, Send
from server.logs import fields

log = logging.getLogger("server.request")


class AccessLog:
    """ASGI middleware: time each request, note its status, log it at debug level."""

    def __init__(self, app: ASGIApp, route_of: Callable[[str], str]) -> None:
        self.app = app
        self.route_of = route_of  # the app's routing table, passed in so this module needs no import of it

    async def __call__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        """Serve through the wrapped app and log one line when the request or session ends."""
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def watch_status(message: Message) -> None:
            nonlocal status
            event = message["type"]
            if event in ("http.response.start", "websocket.http.response.start"):
                status = int(message["status"])
            elif event == "websocket.accept":
                status = 101
            elif event == "websocket.close" and not status:
                status = 403  # refused before the handshake completed
            await send(message)

        try:
            await self.app(scope, receive, watch_status)
        finally:
            client = scope.get("client")
            log.debug(
                "websocket closed" if kind == "websocket" else "request",
                extra=fields(
                    method=scope.get("method", "GET"),
                    route=self.route_of(str(scope.get("path", ""))),
                    status=status or 500,
                    duration_ms=round((time.perf_counter() - started) * 1000, 3),
                    user_id=scope.get(USER_ID_KEY, ""),
                    remote_addr=client[0] if client else "",
                ),
            )
