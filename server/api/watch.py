"""GET /api/v2/notifications/inbox/watch: the inbox watch websocket (spec section 5).

Order of operations, as Coder's handler: authenticate and validate the query while still plain HTTP
(errors are ordinary JSON responses, sent through the ASGI `websocket.http.response` extension), subscribe
to the user's channel, then accept. From then on the hub writes the frames; this handler only waits for
the socket to end. Data frames from the client are a policy violation (Coder's CloseRead closes with
1008), so they are not read into memory.
"""

from __future__ import annotations

import hashlib
import logging
from urllib.parse import urlsplit

from server.asgi import USER_ID_KEY, Receive, Scope, Send
from server.auth import authenticate, token_from_request
from server.context import AppContext
from server.errorlog import error_log
from server.errors import MSG_INTERNAL, ApiError
from server.http import JSON_CONTENT_TYPE
from server.hub import CLOSE_POLICY_VIOLATION, HubClosedError, WatcherLimitError
from server.query import WATCH_PARAMS, parse_inbox_query
from server.store.base import PubsubUnavailableError
from server.wire import encode_json

log = logging.getLogger(__name__)

HTTP_RESPONSE_EXTENSION = "websocket.http.response"
LIVENESS_EXTENSION = "inbox.liveness"  # provided by server.ws_protocol.WatchWebSocketProtocol
WATCH_ROUTE = "GET /api/v2/notifications/inbox/watch"
REASON_CLIENT_DATA = "the watch stream does not accept messages"


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value)
    return None


async def _reject(
    scope: Scope,
    send: Send,
    status: int,
    body: bytes,
    *,
    content_type: bytes = JSON_CONTENT_TYPE,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Answer the upgrade request with a plain HTTP response instead of accepting it."""
    if HTTP_RESPONSE_EXTENSION not in scope.get("extensions", {}):
        # A server without the extension can only refuse the handshake (it answers 403).
        await send({"type": "websocket.close", "code": CLOSE_POLICY_VIOLATION})
        return
    await send(
        {
            "type": "websocket.http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), *(headers or [])],
        }
    )
    await send({"type": "websocket.http.response.body", "body": body})


def _origin_refusal(scope: Scope) -> str | None:
    """The websocket library's default origin check: a browser Origin must name the requested Host."""
    origin = _header(scope, b"origin")
    if origin is None:
        return None
    text = origin.decode("latin-1")
    host = (_header(scope, b"host") or b"").decode("latin-1")
    parsed = urlsplit(text)
    if not parsed.netloc:
        return f"request Origin {text!r} is not a valid URL with a host"
    if parsed.netloc.lower() != host.lower():
        return f"request Origin {text!r} is not authorized for Host {host!r}"
    return None


async def handle_watch(ctx: AppContext, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one watch socket from handshake to close."""
    first = await receive()
    if first["type"] != "websocket.connect":
        return
    headers = list(scope.get("headers", ()))
    query_string = bytes(scope.get("query_string", b""))

    refusal = _origin_refusal(scope)
    if refusal is not None:
        await _reject(scope, send, 403, refusal.encode(), content_type=b"text/plain; charset=utf-8")
        return
    try:
        user = await authenticate(ctx.store, headers, query_string)
        scope[USER_ID_KEY] = str(user.id)  # for the debug request log line
        query = parse_inbox_query(query_string, allow=WATCH_PARAMS)
    except ApiError as exc:
        await _reject(scope, send, exc.status, exc.body(), headers=exc.headers)
        return

    async def session_still_valid() -> bool:
        try:
            current = await authenticate(ctx.store, headers, query_string)
        except ApiError:
            return False
        return current.id == user.id

    # Watchers sharing a token share one session check (the digest keeps the secret out of the hub).
    auth_key = hashlib.sha256(token_from_request(headers, query_string).encode()).digest()
    try:
        watcher = await ctx.hub.register(
            user.id,
            query.filter,
            plaintext=query.format == "plaintext",
            send=send,
            revalidate=session_still_valid,
            auth_key=auth_key,
        )
    except WatcherLimitError as exc:
        body = encode_json(
            {
                "message": "Too many inbox watch connections.",
                "detail": f"A user may hold at most {exc.limit} open watch connections; close one and retry.",
            }
        )
        await _reject(scope, send, 429, body)
        return
    except HubClosedError:
        await _reject(scope, send, 503, encode_json({"message": "The server is shutting down."}))
        return
    except PubsubUnavailableError as exc:
        # The LISTEN connection is reconnecting: a client should come back shortly.
        log.warning("watch: pub/sub unavailable: %s", exc)
        body = encode_json(
            {"message": "Inbox notifications are unavailable right now, try again later.", "detail": MSG_INTERNAL}
        )
        await _reject(scope, send, 503, body)
        return
    except Exception as exc:
        error_log.exception(log, exc, f"watch: subscribing user {user.id} failed", route=WATCH_ROUTE)
        body = encode_json({"message": "Failed to subscribe to inbox notifications.", "detail": MSG_INTERNAL})
        await _reject(scope, send, 500, body)
        return

    try:
        liveness = scope.get("extensions", {}).get(LIVENESS_EXTENSION)
        if liveness is not None:
            interval = ctx.config.watch_ping_interval
            liveness["configure"](interval, interval)  # Coder: ping every 15 s, each with a 15 s timeout
        await send({"type": "websocket.accept"})
        ctx.hub.start_sending(watcher)
        while True:
            event = await receive()
            kind = event["type"]
            if kind == "websocket.disconnect":
                break
            if kind == "websocket.receive":
                ctx.hub.close(watcher, CLOSE_POLICY_VIOLATION, REASON_CLIENT_DATA)
    finally:
        ctx.hub.unregister(watcher)
