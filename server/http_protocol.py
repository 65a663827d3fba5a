"""uvicorn's httptools HTTP/1.1 protocol with limits on the request head.

uvicorn bounds neither how long a request head may take to arrive nor how large it may be, and httptools
buffers a header line whole before handing it over. So a client could hold a connection forever by
sending a head a byte at a time (slowloris), or make the server buffer hundreds of megabytes of headers.
This subclass adds, per connection:

- `--read-header-timeout`: the head (request line and headers) must arrive within this many seconds from
  the connection (or from the first byte of a later request on a kept-alive connection), else the
  connection is closed, as Go's `http.Server.ReadHeaderTimeout` does. Idle kept-alive connections are
  closed by uvicorn's keep-alive timeout as before.
- A head over 64 KiB is answered `431` and the connection closed; the parser is never fed more than that
  of one head. A request URL over 8 KiB is answered `414`. Both in Coder's error shape.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from server.wire import encode_json

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 * 1024
MAX_URL_BYTES = 8 * 1024
DEFAULT_READ_HEADER_TIMEOUT = 10.0


class _Refused(Exception):
    """Raised from a parser callback to stop parsing a request that is refused."""


class HeadLimitedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol with a read-header timeout and limits on head and URL size."""

    read_header_timeout: float = DEFAULT_READ_HEADER_TIMEOUT
    max_head_bytes: int = MAX_HEAD_BYTES
    max_url_bytes: int = MAX_URL_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_body = False  # the current request's head is complete
        self._head_bytes = 0  # bytes of the current head fed to the parser so far
        self._heads_done = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._refusal: tuple[int, str, str] | None = None

    # -- the head timer --------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock on the first request's head."""
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock."""
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _start_head_timer(self) -> None:
        if self._head_timer is None and self.read_header_timeout > 0:
            self._head_timer = self.loop.call_later(self.read_header_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self._in_body and not self.transport.is_closing():
            log.debug("closing %s: no request head within %.1f s", self.client, self.read_header_timeout)
            self.transport.close()

    # -- parser callbacks ------------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        """A new request: its head is on the clock (the first one since the connection was made)."""
        super().on_message_begin()
        self._in_body = False
        self._start_head_timer()

    def on_url(self, url: bytes) -> None:
        """Accumulate the URL, refusing one longer than `max_url_bytes`."""
        if len(self.url) + len(url) > self.max_url_bytes:
            self._refusal = (
                414,
                "Request URL too long.",
                f"The request URL may be at most {self.max_url_bytes} bytes.",
            )
            raise _Refused
        super().on_url(url)

    def on_headers_complete(self) -> None:
        """The head arrived in time and within size: stop the clock."""
        self._cancel_head_timer()
        self._in_body = True
        self._head_bytes = 0
        self._heads_done += 1
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """What follows is the next request's head."""
        super().on_message_complete()
        self._in_body = False

    # -- feeding the parser ----------------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        """Feed the parser, never more than the head limit of one head."""
        self._unset_keepalive_if_required()
        while data:
            if self._in_body:
                self._feed(data)
                return
            room = self.max_head_bytes - self._head_bytes
            piece, data = data[:room], data[room:]
            heads_before = self._heads_done
            if not self._feed(piece):
                return
            if self.transport.get_protocol() is not self:
                # Upgraded to a websocket mid-chunk: the rest belongs to the new protocol.
                if data:
                    self.transport.get_protocol().data_received(data)  # type: ignore[attr-defined]
                return
            if self._heads_done == heads_before and not self._in_body:
                self._head_bytes += len(piece)
                if self._head_bytes >= self.max_head_bytes:
                    detail = f"A request's line and headers may be at most {self.max_head_bytes} bytes."
                    self._refuse(431, "Request header fields too large.", detail)
                    return

    def _feed(self, data: bytes) -> bool:
        """uvicorn's data_received without the keep-alive reset; False once the connection is done."""
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError:
            if self._refusal is None:
                raise
            self._refuse(*self._refusal)
            return False
        except httptools.HttpParserError:
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return False
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        return not self.transport.is_closing()

    def _refuse(self, status: int, message: str, detail: str) -> None:
        """Answer `status` in Coder's error shape and close; nothing more of this connection is read."""
        self._cancel_head_timer()
        body = encode_json({"message": message, "detail": detail}) + b"\n"
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head.extend([name, b": ", value, b"\r\n"])
        head.append(b"content-type: application/json; charset=utf-8\r\n")
        head.append(b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n")
        self.transport.write(b"".join(head) + body)
        self.transport.close()


def head_limited_protocol(read_header_timeout: float) -> type[HeadLimitedHttpToolsProtocol]:
    """The protocol class for uvicorn's `http=` option, with this server's read-header timeout."""
    return type(
        "HeadLimitedHttpToolsProtocol",
        (HeadLimitedHttpToolsProtocol,),
        {"read_header_timeout": read_header_timeout},
    )
