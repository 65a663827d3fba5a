"""The ASGI interface's types, in a module of their own so layers that stream to clients (the hub) need not
import the HTTP request/response primitives of `server.http`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

USER_ID_KEY = "inbox.user_id"  # set in the ASGI scope by the app once a request is authenticated (access log)
