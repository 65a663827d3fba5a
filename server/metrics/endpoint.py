"""The metrics listener on `--prometheus-address`: a minimal HTTP/1.1 server on the event loop.

Like Coder's, it answers every path with the exposition and is separate from the API listener, so it can
stay on 127.0.0.1 while the API faces the network. One request per connection; the request head is bounded
in size and time, and so is the number of connections served at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

DEFAULT_ADDRESS = "127.0.0.1:2112"  # Coder's --prometheus-address default
HEAD_LIMIT = 8 * 1024
HEAD_TIMEOUT = 10.0
MAX_CONNECTIONS = 16


def parse_address(text: str) -> tuple[str | None, int]:
    """`host:port` (Coder's syntax; `[::1]:2112`, and `:2112` for every interface) as (host, port)."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{text!r} is not HOST:PORT")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host or None, int(port)


def address_arg(text: str) -> str:
    """argparse `type=` for `--prometheus-address`: a bad value is a usage error naming the option."""
    try:
        parse_address(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


class MetricsEndpoint:
    """Serves `render()` over HTTP until stopped."""

    def __init__(self, render: Callable[[], bytes], content_type: bytes) -> None:
        self._render = render
        self._content_type = content_type
        self._server: asyncio.Server | None = None
        self._slots = asyncio.Semaphore(MAX_CONNECTIONS)
        self.url = ""

    async def start(self, address: str) -> str:
        """Listen on `address`; returns the URL actually bound (port 0 picks a free one)."""
        host, port = parse_address(address)
        try:
            self._server = await asyncio.start_server(self._serve, host, port, limit=HEAD_LIMIT)
        except OSError as exc:
            raise OSError(exc.errno, f"cannot listen for Prometheus metrics on {address}: {exc.strerror}") from None
        bound_host, bound_port = self._server.sockets[0].getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        self.url = f"http://{shown}:{bound_port}"
        return self.url

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._slots.locked():
            writer.close()  # too many scrapers at once: shed the newcomer, never queue it
            return
        async with self._slots:
            try:
                async with asyncio.timeout(HEAD_TIMEOUT):
                    head = await reader.readuntil(b"\r\n\r\n")
                    method = head.split(b" ", 1)[0]
                    if method in (b"GET", b"HEAD"):
                        body = self._render()
                        status, content_type = b"200 OK", self._content_type
                    else:
                        body, status, content_type = b"Method not allowed.\n", b"405 Method Not Allowed", b"text/plain"
                    writer.write(
                        b"HTTP/1.1 " + status + b"\r\nContent-Type: " + content_type
                        + b"\r\nContent-Length: " + str(len(body)).encode()
                        + b"\r\nConnection: close\r\n\r\n"
                        + (body if method != b"HEAD" else b"")
                    )  # fmt: skip
                    await writer.drain()
            except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                pass
            except Exception:
                log.exception("metrics endpoint: request failed")
            finally:
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
