"""The inbox's first page over a plain connection, fetched in a thread while Textual loads (issue 11).

`inbox-tui` starts `FirstPage.start(...)` before it imports Textual; the app then shows the page this
returns instead of asking its API client, so the first frame waits neither for the round trip (it overlaps
Textual's import) nor for httpx, httpcore and anyio (~35 ms to import; the client loads them with its first
request, after the first frame).

Only plain `http://` deployments and the local server's Unix socket take this path; TLS, proxies from the
environment and anything unusual (a URL with credentials, a token that is not a plain header value) stay
with httpx. The request is the one `CoderClient.list_inbox` makes (same path, query, token header and
timeout); the answer must be a `200` with a JSON object within MAX_BODY bytes, parsed by the same model
code (`InboxPage.from_json`), and its strings are sanitised where they are shown, as every page's are. The
exchange itself (route, deadline, size limits, chunked bodies) is `inbox_tui.plain_http`'s, shared with
`inbox-tui status`. Any failure (refused, timed out, 401, HTML, a hostile or oversized body, a broken
chunked encoding) yields no page, and the app fetches it through its client as it always did: that path
reports the error.
No Textual and no httpx here.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from inbox_tui.api.client import inbox_query
from inbox_tui.api.models import InboxPage
from inbox_tui.plain_http import MAX_BODY, Route, Unusable, get
from inbox_tui.state import Filters

if TYPE_CHECKING:
    import asyncio

    from inbox_tui.connection import Connection

__all__ = ["MAX_BODY", "FirstPage", "Route", "Unusable", "fetch", "inbox_target"]

API_PATH = "/api/v2/notifications/inbox"
DEFAULT_TIMEOUT = 10.0  # as CoderClient's, but for the whole exchange


def inbox_target(filters: Filters) -> str:
    """The path and query `CoderClient.list_inbox` asks for these filters (under the deployment's path)."""
    query = urlencode(
        inbox_query(targets=filters.targets, templates=filters.templates, read_status=filters.read_status)
    )
    return API_PATH + (f"?{query}" if query else "")


def fetch(route: Route, token: str, filters: Filters, *, timeout: float = DEFAULT_TIMEOUT) -> InboxPage:
    """Fetch and parse the first page; raises Unusable or OSError (TimeoutError) when there is none to show."""
    answer = get(route, inbox_target(filters), token, timeout=timeout)
    if answer.status != 200:
        raise Unusable(f"status {answer.status}")
    mime = answer.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if mime != "application/json":
        raise Unusable(f"content type {mime!r}")
    body = answer.body
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise Unusable("not JSON") from exc
    if not isinstance(data, dict):
        raise Unusable("not a JSON object")
    try:
        return InboxPage.from_json(data)
    except Exception as exc:  # whatever the model code refuses, the API client's path reports
        raise Unusable(f"not a page: {exc}") from exc


class FirstPage:
    """A first-page request running in a daemon thread; the app takes its page or asks its client instead."""

    def __init__(self, route: Route, token: str, filters: Filters, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Start fetching at once (`start` is what `inbox-tui` calls)."""
        self.filters = filters
        self.error: BaseException | None = None
        self._page: InboxPage | None = None
        self._done = False
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[InboxPage | None]]] = []
        self._thread = threading.Thread(
            target=self._run, args=(route, token, filters, timeout), name="first-page", daemon=True
        )
        self._thread.start()

    @classmethod
    def start(cls, connection: Connection, filters: Filters | None = None) -> FirstPage | None:
        """Start fetching the first page for these filters (the remembered ones), or None when httpx must."""
        try:
            uds = connection.local.socket if connection.local is not None else None
            route = Route.for_deployment(connection.url, uds=uds)
            if route is None:
                return None
            return cls(route, connection.token, filters if filters is not None else Filters())
        except Exception:  # never a reason not to start: the app fetches the page itself
            return None

    def _run(self, route: Route, token: str, filters: Filters, timeout: float) -> None:
        page: InboxPage | None = None
        try:
            page = fetch(route, token, filters, timeout=timeout)
        except BaseException as exc:  # a daemon thread: whatever happened, the app falls back
            self.error = exc
        with self._lock:
            self._page = page
            self._done = True
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting any more
                loop.call_soon_threadsafe(_settle, future, page)

    def ready(self) -> InboxPage | None:
        """The page if it has already arrived (None: not yet, or there will be none)."""
        with self._lock:
            return self._page

    async def wait(self) -> InboxPage | None:
        """The page once the request has finished (None: failed), without blocking the event loop."""
        import asyncio

        with self._lock:
            if self._done:
                return self._page
            loop = asyncio.get_running_loop()
            future: asyncio.Future[InboxPage | None] = loop.create_future()
            self._waiters.append((loop, future))
        return await future

    async def page_or(self, filters: Filters, fetch_page: Callable[[], Awaitable[InboxPage]]) -> InboxPage:
        """This page if it was fetched for `filters`, else (or when it failed) `await fetch_page()`."""
        page = await self.wait() if filters == self.filters else None
        return page if page is not None else await fetch_page()


def _settle(future: asyncio.Future[InboxPage | None], page: InboxPage | None) -> None:
    if not future.done():
        future.set_result(page)
