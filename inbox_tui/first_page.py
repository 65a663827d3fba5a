"""The inbox's first page over a plain connection, fetched in a thread while Textual loads (issue 11).

`inbox-tui` starts `FirstPage.start(...)` before it imports Textual; the app then shows the page this
returns instead of asking its API client, so the first frame waits neither for the round trip (it overlaps
Textual's import) nor for httpx, httpcore and anyio (~35 ms to import; the client loads them with its first
request, after the first frame).

Only plain `http://` deployments and the local server's Unix socket take this path; TLS, proxies from the
environment and anything unusual (a URL with credentials, a token that is not a plain header value) stay
with httpx. The request is the one `CoderClient.list_inbox` makes (same path, query, token header and
timeout); the answer must be a `200` with a JSON object within MAX_BODY bytes, parsed by the same model
code (`InboxPage.from_json`), and its strings are sanitised where they are shown, as every page's are. Any
failure (refused, timed out, 401, HTML, a hostile or oversized body, a broken chunked encoding) yields no
page, and the app fetches it through its client as it always did: that path reports the error.
No Textual and no httpx here.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from inbox_tui.api.client import TOKEN_HEADER, USER_AGENT, inbox_query, is_loopback_url
from inbox_tui.api.models import InboxPage
from inbox_tui.state import Filters

if TYPE_CHECKING:
    import asyncio

    from inbox_tui.connection import Connection

API_PATH = "/api/v2/notifications/inbox"
DEFAULT_TIMEOUT = 10.0  # as CoderClient's, but for the whole exchange
MAX_HEAD = 64 * 1024
MAX_BODY = 8 * 1024 * 1024  # a page is 25 notifications; anything bigger is left to httpx
_RECV = 65536
# Characters a base path may hold as it is (anything else would need quoting: left to httpx).
_PATH_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/%!$&'()*+,;=:@")
# The environment's proxies, which httpx uses for a deployment that is not on this machine.
_PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")


class Unusable(Exception):
    """The answer is not a first page this module accepts (the app then asks its API client)."""


class Route:
    """Where the request goes: a TCP (host, port) or a Unix socket path, and what the request line says."""

    __slots__ = ("address", "host_header", "prefix")

    def __init__(self, address: tuple[str | bytes, int] | str, host_header: str, prefix: str) -> None:
        self.address = address
        self.host_header = host_header
        self.prefix = prefix

    @classmethod
    def for_deployment(cls, url: str, *, uds: str | None = None, env: dict[str, str] | None = None) -> Route | None:
        """The route for a normalised deployment URL, or None when the request must go through httpx."""
        if uds is not None:
            return cls(uds, "localhost", "")
        parts = urlsplit(url)
        if parts.scheme != "http" or "@" in parts.netloc or not parts.hostname:
            return None
        environ = os.environ if env is None else env
        if not is_loopback_url(url) and any(environ.get(name) for name in _PROXY_VARIABLES):
            return None  # httpx would go through the proxy
        if not set(parts.path) <= _PATH_SAFE or not parts.netloc.isascii() or not parts.netloc.isprintable():
            return None
        try:
            port = parts.port or 80
        except ValueError:
            return None
        # The host as bytes: a str would be IDNA-encoded by getaddrinfo, which imports encodings.idna and
        # stringprep (~2 ms) for a name that is ASCII anyway (checked above).
        return cls((parts.hostname.encode("ascii"), port), parts.netloc, parts.path)

    def connect(self, timeout: float) -> socket.socket:
        """An open connection to the server."""
        if isinstance(self.address, str):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(timeout)
                sock.connect(self.address)
            except BaseException:
                sock.close()
                raise
            return sock
        return socket.create_connection(self.address, timeout=timeout)  # type: ignore[arg-type]  # bytes work


def request_bytes(route: Route, token: str, filters: Filters) -> bytes:
    """The GET request `CoderClient.list_inbox` would send for these filters (closing the connection after)."""
    if not token or not token.isascii() or not token.isprintable():
        raise Unusable("the token is not a plain header value")
    query = urlencode(
        inbox_query(targets=filters.targets, templates=filters.templates, read_status=filters.read_status)
    )
    target = route.prefix + API_PATH + (f"?{query}" if query else "")
    head = (
        f"GET {target} HTTP/1.1\r\n"
        f"Host: {route.host_header}\r\n"
        f"{TOKEN_HEADER}: {token}\r\n"
        f"User-Agent: {USER_AGENT}\r\n"
        "Accept: application/json\r\n"
        "Accept-Encoding: identity\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii")


class _Reader:
    """Reads one HTTP/1.1 response from a socket within a deadline and the size limits."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self.buffer = bytearray()
        self.eof = False

    def more(self) -> None:
        """Read what arrives next (Unusable at end of stream, TimeoutError past the deadline)."""
        if self.eof:
            raise Unusable("the server closed the connection early")
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the first page took too long")
        self.sock.settimeout(remaining)
        chunk = self.sock.recv(_RECV)
        if not chunk:
            self.eof = True
            return
        self.buffer += chunk
        if len(self.buffer) > MAX_HEAD + MAX_BODY + MAX_HEAD:
            raise Unusable("the answer is too large")

    def head(self) -> tuple[int, dict[str, str]]:
        """The status and headers (names in lower case); the buffer keeps what follows them."""
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(self.buffer) > MAX_HEAD:
                raise Unusable("the response head is too large")
            self.more()
            if self.eof:
                raise Unusable("the server closed the connection early")
        if end > MAX_HEAD:
            raise Unusable("the response head is too large")
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        del self.buffer[: end + 4]
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if version not in ("HTTP/1.1", "HTTP/1.0") or not code.isdigit() or not code.isascii():
            raise Unusable("not an HTTP/1.x response")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            name = name.strip().lower()
            if not colon or not name:
                raise Unusable("a malformed header line")
            value = value.strip()
            if name in headers and headers[name] != value:
                if name in ("content-length", "transfer-encoding", "content-type", "content-encoding"):
                    raise Unusable(f"conflicting {name} headers")
                headers[name] = f"{headers[name]}, {value}"
            else:
                headers[name] = value
        return int(code), headers

    def body(self, headers: dict[str, str]) -> bytes:
        """The body, by Content-Length, chunked encoding or (HTTP/1.0 style) the end of the stream."""
        encoding = headers.get("transfer-encoding", "").lower()
        if encoding:
            if encoding != "chunked":
                raise Unusable(f"transfer encoding {encoding!r}")
            return self._chunked()
        length_text = headers.get("content-length")
        if length_text is not None:
            if not length_text.isdigit() or not length_text.isascii():
                raise Unusable("a malformed content length")
            length = int(length_text)
            if length > MAX_BODY:
                raise Unusable("the body is too large")
            while len(self.buffer) < length:
                self.more()
            return bytes(self.buffer[:length])
        while not self.eof:
            self.more()
            if len(self.buffer) > MAX_BODY:
                raise Unusable("the body is too large")
        return bytes(self.buffer)

    def _chunked(self) -> bytes:
        body = bytearray()
        position = 0
        while True:
            line_end = self.buffer.find(b"\r\n", position)
            while line_end < 0:
                if len(self.buffer) - position > 1024:
                    raise Unusable("a malformed chunk size")
                self.more()
                line_end = self.buffer.find(b"\r\n", position)
            size_text = bytes(self.buffer[position:line_end]).split(b";", 1)[0].strip()
            if not size_text or len(size_text) > 8 or any(c not in b"0123456789abcdefABCDEF" for c in size_text):
                raise Unusable("a malformed chunk size")
            size = int(size_text, 16)
            if size == 0:
                return bytes(body)  # trailers, if any, are not needed
            if len(body) + size > MAX_BODY:
                raise Unusable("the body is too large")
            start = line_end + 2
            while len(self.buffer) < start + size + 2:
                self.more()
            if self.buffer[start + size : start + size + 2] != b"\r\n":
                raise Unusable("a malformed chunk")
            body += self.buffer[start : start + size]
            position = start + size + 2


def fetch(route: Route, token: str, filters: Filters, *, timeout: float = DEFAULT_TIMEOUT) -> InboxPage:
    """Fetch and parse the first page; raises Unusable or OSError (TimeoutError) when there is none to show."""
    request = request_bytes(route, token, filters)
    deadline = time.monotonic() + timeout
    with route.connect(timeout) as sock:
        sock.sendall(request)
        reader = _Reader(sock, deadline)
        status, headers = reader.head()
        if status != 200:
            raise Unusable(f"status {status}")
        if headers.get("content-encoding", "identity").lower() != "identity":
            raise Unusable("an encoded body")
        mime = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if mime != "application/json":
            raise Unusable(f"content type {mime!r}")
        body = reader.body(headers)
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
    def start(cls, connection: Connection, *, demo: bool = False) -> FirstPage | None:
        """Start fetching the first page for the remembered filters, or None when httpx must do it."""
        try:
            from inbox_tui.config import ui_state_path
            from inbox_tui.ui_state import UiState

            uds = connection.local.socket if connection.local is not None else None
            route = Route.for_deployment(connection.url, uds=uds)
            if route is None:
                return None
            filters = UiState.load(ui_state_path(demo=demo)).filters
            return cls(route, connection.token, filters)
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
