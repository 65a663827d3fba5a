"""One HTTP GET without httpx: for the few requests that run before (or instead of) the full client.

Its callers pay more for httpx (and even http.client, which loads email and ssl) than for the request
itself: `inbox-tui status`, which a status bar runs every few seconds, the inbox's first page, fetched
while Textual loads (`inbox_tui.first_page`), and the local server's liveness probe. All go through
`get`: a plain socket (TCP, or the local server's Unix socket), HTTP/1.1 with `Connection: close`, the
token checked as a header value, one deadline for the whole exchange, limits on the head and the body,
Content-Length, chunked or read-to-end bodies; anything else is `Unusable` (a ValueError), and socket
failures are OSError (TimeoutError past the deadline). TLS goes through http.client (`get_tls`; ssl is
needed then anyway). No proxies: callers use the full client when one applies. No Textual, no asyncio, no
httpx; urllib.parse (it loads ipaddress) only when a URL is parsed, never on the Unix-socket path.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping

from inbox_tui import __version__

TOKEN_HEADER = "Coder-Session-Token"
USER_AGENT = f"inbox-tui/{__version__}"
MAX_HEAD = 64 * 1024
MAX_BODY = 8 * 1024 * 1024  # an API answer this large is not one we asked for
_RECV = 65536
# Characters a base path may hold as it is (anything else would need quoting: left to the full client).
_PATH_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/%!$&'()*+,;=:@")
# The environment's proxies, which httpx uses for a plain-HTTP deployment that is not on this machine.
_PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")
# Headers whose repetition with another value makes the answer ambiguous (request smuggling territory).
_SINGLE = ("content-length", "transfer-encoding", "content-type", "content-encoding")


class Unusable(ValueError):
    """A request this module will not send, or an answer it cannot use (the message says which)."""


class BadHeaderValue(Unusable):
    """A value (the token) that would break or extend the request head."""


def header_value(value: str) -> str:
    """`value` if it is a safe header value (visible ASCII only: no CR/LF injection), else BadHeaderValue."""
    if not value or any(ord(c) < 0x21 or ord(c) > 0x7E for c in value):
        raise BadHeaderValue("the session token is not a valid header value")
    return value


class Route:
    """Where a request goes: a TCP (host, port) or a Unix socket path, its Host header and base path."""

    __slots__ = ("address", "host_header", "prefix")

    def __init__(self, address: tuple[str | bytes, int] | str, host_header: str, prefix: str) -> None:
        self.address = address
        self.host_header = host_header
        self.prefix = prefix

    @classmethod
    def unix(cls, path: str) -> Route:
        """The local server's Unix socket (its API sees the Host `localhost`)."""
        return cls(path, "localhost", "")

    @classmethod
    def for_url(cls, url: str) -> Route | None:
        """TCP to a plain `http://` base URL, or None for what this module does not send as it is (https,
        credentials in the URL, a non-ASCII host, a path that would need quoting)."""
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        if parts.scheme != "http" or "@" in parts.netloc or not parts.hostname:
            return None
        if not set(parts.path) <= _PATH_SAFE or not parts.netloc.isascii() or not parts.netloc.isprintable():
            return None
        try:
            port = parts.port or 80
        except ValueError:
            return None
        # The host as bytes: a str would be IDNA-encoded by getaddrinfo, which imports encodings.idna and
        # stringprep (~2 ms) for a name that is ASCII anyway (checked above).
        return cls((parts.hostname.encode("ascii"), port), parts.netloc, parts.path.rstrip("/"))

    @classmethod
    def for_deployment(cls, url: str, *, uds: str | None = None, env: Mapping[str, str] | None = None) -> Route | None:
        """The route to a deployment as httpx would reach it, or None when httpx must: the Unix socket
        `uds` if given, else `for_url`, unless the environment names a proxy for a remote deployment."""
        if uds is not None:
            return cls.unix(uds)
        from inbox_tui.urls import is_loopback_url

        environ = os.environ if env is None else env
        if not is_loopback_url(url) and any(environ.get(name) for name in _PROXY_VARIABLES):
            return None  # httpx would go through the proxy
        return cls.for_url(url)

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


def request_bytes(host: str, target: str, token: str | None) -> bytes:
    """The request head of `GET target` with the session token (None: without one), closing the connection
    after the answer."""
    credentials = "" if token is None else f"{TOKEN_HEADER}: {header_value(token)}\r\n"
    return (
        f"GET {target} HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        f"{credentials}"
        f"User-Agent: {USER_AGENT}\r\n"
        "Accept: application/json\r\n"
        "Accept-Encoding: identity\r\n"
        "Connection: close\r\n\r\n"
    ).encode("ascii")


class Answer:
    """A response: status, headers (names in lower case) and the decoded body."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


class _Reader:
    """Reads one HTTP/1.x response from a socket (or from bytes) within a deadline and the size limits."""

    def __init__(self, sock: socket.socket | None, deadline: float, data: bytes = b"") -> None:
        self.sock = sock
        self.deadline = deadline
        self.buffer = bytearray(data)
        self.eof = False

    def more(self) -> None:
        """Read what arrives next (Unusable at end of stream, TimeoutError past the deadline)."""
        if self.eof:
            raise Unusable("the server closed the connection early")
        if self.sock is None:
            self.eof = True
            return
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the server took too long")
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
                if name in _SINGLE:
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


def _answer(reader: _Reader) -> Answer:
    status, headers = reader.head()
    if headers.get("content-encoding", "identity").lower() != "identity":
        raise Unusable("an encoded body")  # asked for identity: anything else is not for us
    return Answer(status, headers, reader.body(headers))


def parse_answer(raw: bytes) -> tuple[int, bytes]:
    """Status and body of an HTTP/1.x answer read to the end; Unusable (a ValueError) if it is not one."""
    answer = _answer(_Reader(None, 0.0, raw))
    return answer.status, answer.body


def get(route: Route, target: str, token: str | None, *, timeout: float) -> Answer:
    """`GET target` (under the route's base path) with the session token (if any), within `timeout` seconds.

    Raises Unusable (a bad token, an answer that is not one this module reads) or OSError (unreachable;
    TimeoutError past the deadline).
    """
    request = request_bytes(route.host_header, route.prefix + target, token)
    deadline = time.monotonic() + timeout
    with route.connect(timeout) as sock:
        sock.sendall(request)
        return _answer(_Reader(sock, deadline))


def get_tls(base_url: str, target: str, token: str, *, timeout: float) -> tuple[int, bytes]:
    """`GET target` under an https:// base URL through http.client: status and body (errors as `get`'s)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    connection = http.client.HTTPSConnection(parts.netloc, timeout=timeout)
    try:
        connection.request(
            "GET",
            parts.path.rstrip("/") + target,
            headers={TOKEN_HEADER: header_value(token), "User-Agent": USER_AGENT, "Accept": "application/json"},
        )
        response = connection.getresponse()
        body = response.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            raise Unusable("the body is too large")
        return response.status, body
    except http.client.HTTPException as exc:
        raise Unusable(str(exc) or type(exc).__name__) from exc
    finally:
        connection.close()
