"""The one plain GET (inbox_tui/plain_http.py) as `inbox-tui status` uses it: the same deadline and the
same strict reading as the first page's (tests/client/test_first_page.py covers those answers in full)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import pytest

from inbox_tui.commands.status import StatusUnavailable, Target, fetch_unread
from inbox_tui.plain_http import Route, get
from tests.client.raw_http import RawServer, raw_server, response

__all__ = ["raw_server"]  # the fixture, imported for the tests below


def test_status_refuses_a_body_shorter_than_its_content_length(
    raw_server: Callable[[bytes], RawServer],
) -> None:
    server = raw_server(response(b'{"unread_count": 3, "notifications": []}')[:-5])
    with pytest.raises(StatusUnavailable, match="closed the connection early"):
        fetch_unread(Target(server.url, "t", "x"), 5.0)


def test_status_gives_up_at_its_deadline_however_the_answer_trickles(
    raw_server: Callable[[Callable[[socket.socket], None]], RawServer],
) -> None:
    stop = threading.Event()

    def trickle(conn: socket.socket) -> None:  # a byte at a time: each read is quick, the whole never ends
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        for _ in range(200):  # ~10 s at most, then the connection closes
            if stop.wait(0.05):
                return
            conn.sendall(b"X")

    server = raw_server(trickle)
    try:
        with pytest.raises(StatusUnavailable, match=r"timed out|took too long"):
            fetch_unread(Target(server.url, "t", "x"), 0.5)
    finally:
        stop.set()


def test_a_request_without_a_token_has_no_token_header(raw_server: Callable[[bytes], RawServer]) -> None:
    server = raw_server(response(b"{}"))
    route = Route.for_url(server.url)
    assert route is not None
    assert get(route, "/api/v2/users/me", None, timeout=5).status == 200
    deadline = time.monotonic() + 5
    while not server.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert b"Coder-Session-Token" not in server.requests[0]
