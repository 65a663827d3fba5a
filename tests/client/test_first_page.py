"""The first page over a plain connection before Textual starts (issue 11): the same page the API client
gets, from a real server over TCP and over the local server's Unix socket; and no page at all (so the app
asks its client) for anything else: a closed server, 401, HTML, a hostile, malformed or oversized answer.

Start-up speed itself is measured in benchmarks/tui_startup.py.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from inbox_tui.api.client import CoderClient
from inbox_tui.api.models import InboxPage
from inbox_tui.connection import Connection, resolve
from inbox_tui.first_page import MAX_BODY, FirstPage, Route, Unusable, fetch
from inbox_tui.state import Filters
from tests.client.fakes import notification_json
from tests.client.raw_http import RawServer, raw_server, response
from tests.live_server import LiveServer
from tests.local_env import LocalEnv
from tests.tui.helpers import seed_custom

__all__ = ["raw_server"]  # the fixture, imported for the tests below


def route(url: str) -> Route:
    found = Route.for_deployment(url, env={})
    assert found is not None
    return found


# -- the same page as the API client, from a real server --------------------------------------------


async def test_same_page_as_the_client_over_tcp(live_server: LiveServer) -> None:
    async with CoderClient(live_server.url, live_server.member_token) as client:
        await seed_custom(client, 3)
        newest = (await client.list_inbox()).notifications[0]
        await client.set_read(newest.id, True)
        expected_all = await client.list_inbox()
        expected_unread = await client.list_inbox(read_status="unread")
    page = fetch(route(live_server.url), live_server.member_token, Filters())
    assert page == expected_all
    assert len(page.notifications) == 3 and page.unread_count == 2
    unread = fetch(route(live_server.url), live_server.member_token, Filters(read_status="unread"))
    assert unread == expected_unread
    assert newest.id not in {n.id for n in unread.notifications}


async def test_same_page_as_the_client_through_the_local_servers_socket(
    local_env: LocalEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CODER_URL", "CODER_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in local_env.env.items():
        if name.startswith(("INBOX_TUI_", "CODER_")):
            monkeypatch.setenv(name, value)
    connection = resolve()
    try:
        assert connection.local is not None
        async with connection.client() as client:
            await seed_custom(client, 2)
            expected = await client.list_inbox()
        first = FirstPage.start(connection)
        assert first is not None
        page = await first.wait()
        assert first.error is None
        assert page == expected
        assert [n.title for n in page.notifications] == ["Custom 1", "Custom 0"]
    finally:
        connection.close()


async def test_page_or_uses_the_fetched_page_and_never_the_client(live_server: LiveServer) -> None:
    async with CoderClient(live_server.url, live_server.member_token) as client:
        await seed_custom(client, 1)
    first = FirstPage(route(live_server.url), live_server.member_token, Filters())
    asked: list[str] = []

    async def ask_client() -> InboxPage:
        asked.append("client")
        return InboxPage(notifications=(), unread_count=0)

    page = await first.page_or(Filters(), ask_client)
    assert asked == [] and page.unread_count == 1
    assert first.ready() == page


async def test_page_or_asks_the_client_when_the_filters_differ(live_server: LiveServer) -> None:
    first = FirstPage(route(live_server.url), live_server.member_token, Filters())
    fallback = InboxPage(notifications=(), unread_count=42)

    async def ask_client() -> InboxPage:
        return fallback

    assert await first.page_or(Filters(read_status="unread"), ask_client) is fallback


# -- no page, so the app asks its client ------------------------------------------------------------


async def test_closed_server_gives_no_page_and_page_or_asks_the_client(live_server: LiveServer) -> None:
    url, token = live_server.url, live_server.member_token
    live_server.stop()
    first = FirstPage(route(url), token, Filters())
    fallback = InboxPage(notifications=(), unread_count=7)

    async def ask_client() -> InboxPage:
        return fallback

    assert await first.page_or(Filters(), ask_client) is fallback
    assert isinstance(first.error, ConnectionRefusedError)
    with pytest.raises(ConnectionRefusedError):
        fetch(route(url), token, Filters())


async def test_a_refused_token_gives_no_page(live_server: LiveServer) -> None:
    with pytest.raises(Unusable, match="status 401"):
        fetch(route(live_server.url), "00000000-bad-token", Filters())


PAGE = json.dumps({"notifications": [notification_json(1), notification_json(0)], "unread_count": 2}).encode()


def test_the_request_is_the_clients(raw_server: Callable[[bytes], RawServer]) -> None:
    server = raw_server(response(PAGE))
    filters = Filters(read_status="unread", templates=("t1", "t2"), targets=("x",))
    page = fetch(route(server.url + "/prefix"), "tok-en", filters)
    assert [n.title for n in page.notifications] == ["Notification 1", "Notification 0"]
    head = server.requests[0].decode()
    line, *headers = head.split("\r\n")
    assert line == ("GET /prefix/api/v2/notifications/inbox?targets=x&templates=t1%2Ct2&read_status=unread HTTP/1.1")
    assert "Coder-Session-Token: tok-en" in headers
    assert f"Host: {server.url.removeprefix('http://')}" in headers


def test_a_chunked_page_is_read(raw_server: Callable[[bytes], RawServer]) -> None:
    chunks = b"".join(
        b"%x;ext=1\r\n%s\r\n" % (len(PAGE[i : i + 100]), PAGE[i : i + 100]) for i in range(0, len(PAGE), 100)
    )
    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunks
        + b"0\r\n\r\n"
    )
    server = raw_server(answer)
    assert fetch(route(server.url), "t", Filters()).unread_count == 2


def test_hostile_strings_arrive_as_the_client_would_get_them(raw_server: Callable[[bytes], RawServer]) -> None:
    # The model keeps server text as it is; the list and preview sanitise it when they draw it, as for
    # every page (tests/tui cover that); here: the same parse as the client's, nothing dropped or decoded.
    hostile = notification_json(0)
    hostile["title"] = "boom \x1b]52;c;aGFja2Vk\x07 \x1b[2J \u202eevil"
    body = json.dumps({"notifications": [hostile], "unread_count": 1}).encode()
    server = raw_server(response(body))
    page = fetch(route(server.url), "t", Filters())
    assert page == InboxPage.from_json(json.loads(body))


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (response(b"<html>sign in</html>", content_type="text/html"), "content type 'text/html'"),
        (response(b'{"notifications": [', status="200 OK"), "not JSON"),
        (response(b"\xff\xfe\xfa not utf-8 {"), "not JSON"),
        (response(b"[1, 2]"), "not a JSON object"),
        (response(b'{"notifications": [{"title": "no id"}]}'), "not a page"),
        (response(b'{"message": "nope"}', status="500 Internal Server Error"), "status 500"),
        (response(PAGE, extra="Content-Encoding: gzip\r\n"), "an encoded body"),
        (response(PAGE, extra="Content-Length: 3\r\n"), "conflicting content-length"),
        (response(PAGE)[:-10], "closed the connection early"),
        (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n", "too large"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "chunk size",
        ),
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "not an HTTP/1.x response"),
        (b"HTTP/1.1 200 OK\r\nX-Junk: " + b"a" * 70_000 + b"\r\n\r\n", "head is too large"),
        (b"", "closed the connection early"),
    ],
)
def test_an_unusable_answer_gives_no_page(raw_server: Callable[[bytes], RawServer], answer: bytes, reason: str) -> None:
    server = raw_server(answer)
    with pytest.raises(Unusable, match=reason):
        fetch(route(server.url), "t", Filters())


def test_an_endless_body_gives_no_page(raw_server: Callable[[Callable[[socket.socket], None]], RawServer]) -> None:
    def endless(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
        block = b" " * 65536
        for _ in range(MAX_BODY // len(block) + 64):
            conn.sendall(block)

    server = raw_server(endless)
    with pytest.raises(Unusable, match="too large"):
        fetch(route(server.url), "t", Filters())


def test_a_server_that_never_answers_gives_no_page(
    raw_server: Callable[[Callable[[socket.socket], None]], RawServer],
) -> None:
    release = threading.Event()
    server = raw_server(lambda conn: release.wait(30))
    try:
        with pytest.raises(TimeoutError):
            fetch(route(server.url), "t", Filters(), timeout=0.3)
    finally:
        release.set()


# -- which deployments take the plain path ----------------------------------------------------------


def test_only_plain_http_and_the_local_socket_take_the_plain_path() -> None:
    assert Route.for_deployment("https://coder.example.com", env={}) is None
    assert Route.for_deployment("http://user:pw@coder.example.com", env={}) is None
    assert Route.for_deployment("http://coder.example.com/a b", env={}) is None
    # httpx sends a remote plain-HTTP deployment through the environment's proxy: so must the first page.
    assert Route.for_deployment("http://coder.example.com", env={"https_proxy": "x"}) is not None
    assert Route.for_deployment("http://coder.example.com", env={"http_proxy": "http://proxy:3128"}) is None
    assert Route.for_deployment("http://coder.example.com", env={"ALL_PROXY": "http://proxy:3128"}) is None
    # ... but never the local one (trust_env is off for loopback).
    local = Route.for_deployment("http://127.0.0.1:3000", env={"http_proxy": "http://proxy:3128"})
    assert local is not None and local.address == (b"127.0.0.1", 3000)
    remote = Route.for_deployment("http://coder.example.com/coder", env={})
    assert remote is not None and remote.address == (b"coder.example.com", 80) and remote.prefix == "/coder"
    uds = Route.for_deployment("http://localhost", uds="/run/x.sock", env={})
    assert uds is not None and uds.address == "/run/x.sock" and uds.host_header == "localhost"


def test_start_leaves_https_and_odd_tokens_to_httpx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INBOX_TUI_STATE_DIR", str(tmp_path))
    assert FirstPage.start(Connection(url="https://coder.example.com", token="t", source="flags")) is None
    odd = FirstPage.start(Connection(url="http://127.0.0.1:1", token="bad\r\ntoken", source="flags"))
    assert odd is not None
    odd._thread.join(30)
    assert odd.ready() is None and isinstance(odd.error, Unusable)


# -- what start-up imports --------------------------------------------------------------------------

IMPORT_PROBE = """
import json, sys
import inbox_tui.cli, inbox_tui.first_page, inbox_tui.app
print(json.dumps(sorted(n for n in sys.modules if n.split(".")[0] in {"httpx", "httpcore", "anyio", "h11"}
    or n == "inbox_tui.api.more_models")))
first = inbox_tui.first_page.fetch  # a plain-HTTP fetch (here refused) neither loads httpx nor IDNA
try:
    first(inbox_tui.first_page.Route.for_deployment("http://localhost:1", env={}), "t", inbox_tui.state.Filters())
except OSError:
    pass
print(json.dumps(sorted(n for n in sys.modules if n.split(".")[0] in {"httpx", "httpcore", "anyio", "h11"}
    or n in ("encodings.idna", "stringprep"))))
"""


def test_the_first_frames_modules_leave_out_httpx_and_the_later_models(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE], capture_output=True, text=True, timeout=60, check=True, cwd=tmp_path
    )
    assert [json.loads(line) for line in result.stdout.splitlines()] == [[], []]
