"""One HTTP GET without httpx: for the few requests that run before (or instead of) the full client.

`inbox-tui status` runs every few seconds from a status bar; httpx, and even http.client (which loads
email and ssl), cost it more than the request itself. A plain socket does: the local server's Unix socket
or TCP, HTTP/1.1 with `Connection: close`, read to the end. TLS goes through http.client (ssl is needed
then anyway). No proxies: callers use the full client when one applies. No Textual, no asyncio.
"""

from __future__ import annotations

import socket

from inbox_tui import __version__

MAX_ANSWER = 8 << 20  # an API answer this large is not one we asked for


class BadHeaderValue(ValueError):
    """A value (the token) that would break or extend the request head."""


def header_value(value: str) -> str:
    """`value` if it is a safe header value (visible ASCII only: no CR/LF injection), else BadHeaderValue."""
    if not value or any(ord(c) < 0x21 or ord(c) > 0x7E for c in value):
        raise BadHeaderValue("the session token is not a valid header value")
    return value


def request_bytes(host: str, path: str, token: str) -> bytes:
    """The request head of `GET path` with the session token, closing the connection after the answer."""
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: inbox-tui/{__version__}\r\n"
        f"Accept: application/json\r\nCoder-Session-Token: {header_value(token)}\r\nConnection: close\r\n\r\n"
    ).encode("ascii")


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    while True:
        line, _, rest = body.partition(b"\r\n")
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            return bytes(out)
        out += rest[:size]
        body = rest[size + 2 :]


def parse_answer(raw: bytes) -> tuple[int, bytes]:
    """Status and body of an HTTP/1.1 answer read to the end; ValueError if it is not one."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if not sep or len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        raise ValueError("not an HTTP answer")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip().lower()
    if b"chunked" in headers.get(b"transfer-encoding", b""):
        body = _dechunk(body)
    elif headers.get(b"content-length", b"").isdigit():
        body = body[: int(headers[b"content-length"])]
    return int(parts[1]), body


def get(base_url: str, path: str, token: str, *, timeout: float, unix_socket: str | None = None) -> tuple[int, bytes]:
    """`GET path` (under the base URL's path) with the session token: status and body.

    Through `unix_socket` when given (the URL then only names the host), else TCP, TLS for https://.
    Raises OSError (unreachable, timeout) or ValueError (not HTTP, too large, a bad token).
    """
    if unix_socket is not None:
        return _plain("localhost", path, token, timeout, unix_socket=unix_socket)
    from urllib.parse import urlsplit  # not on the Unix-socket path: it loads ipaddress too

    parts = urlsplit(base_url)
    full_path = parts.path.rstrip("/") + path
    if parts.scheme == "https":
        return _tls(parts.netloc, full_path, token, timeout)
    return _plain(parts.netloc, full_path, token, timeout, address=(parts.hostname or "", parts.port or 80))


def _plain(
    host: str,
    path: str,
    token: str,
    timeout: float,
    *,
    unix_socket: str | None = None,
    address: tuple[str, int] | None = None,
) -> tuple[int, bytes]:
    request = request_bytes(host, path, token)
    if unix_socket is not None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(unix_socket)
        except OSError:
            sock.close()
            raise
    else:
        sock = socket.create_connection(address or (host, 80), timeout=timeout)
    with sock:
        sock.sendall(request)
        chunks: list[bytes] = []
        size = 0
        while chunk := sock.recv(65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_ANSWER:
                raise ValueError("the answer is too large")
    return parse_answer(b"".join(chunks))


def _tls(netloc: str, path: str, token: str, timeout: float) -> tuple[int, bytes]:
    import http.client

    connection = http.client.HTTPSConnection(netloc, timeout=timeout)
    try:
        connection.request(
            "GET",
            path,
            headers={
                "Coder-Session-Token": header_value(token),
                "User-Agent": f"inbox-tui/{__version__}",
                "Accept": "application/json",
            },
        )
        response = connection.getresponse()
        return response.status, response.read(MAX_ANSWER)
    except http.client.HTTPException as exc:
        raise ValueError(str(exc) or type(exc).__name__) from exc
    finally:
        connection.close()
