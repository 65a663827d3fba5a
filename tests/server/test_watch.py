"""GET /api/v2/notifications/inbox/watch against a real server (spec section 5)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from server.records import TEMPLATE_CUSTOM_NOTIFICATION, TEMPLATE_TEST_NOTIFICATION
from tests.live_server import LiveServer
from tests.server.watch_helpers import (
    PingCountingConnection,
    RawWatch,
    next_frame,
    open_watch,
    send_custom,
    user_uuid,
    watch_url,
)

PING_INTERVAL = 0.5  # short, so liveness and session re-checks happen within a test
WORKSPACE_DELETED = "f517da0b-cdc9-410f-ab89-a86107c420ed"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for this module, pinging every half second and sweeping the queue often."""
    live = LiveServer(
        tmp_path_factory.mktemp("watch-server"),
        args=["--watch-ping-interval", str(PING_INTERVAL), "--fetch-interval", "0.2"],
    ).start()
    try:
        yield live
    finally:
        live.stop()


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


# -- message format --------------------------------------------------------------------------------


async def test_markdown_frame_shape_and_trailing_newline(server: LiveServer) -> None:
    token = server.create_user(unique("fmt").replace(" ", "-"))
    me = await user_uuid(server, token)
    async with await open_watch(server, token) as ws:
        await send_custom(server, "**Build** done", "See [the logs](https://ci.example/1) & <more>", token)
        raw, frame = await next_frame(ws)

    assert raw.endswith("}\n") and raw.count("\n") == 1
    assert list(frame) == ["notification", "unread_count"]
    n = frame["notification"]
    assert list(n) == [
        "id",
        "user_id",
        "template_id",
        "targets",
        "title",
        "content",
        "icon",
        "actions",
        "read_at",
        "created_at",
    ]
    assert n["user_id"] == str(me)
    assert n["template_id"] == str(TEMPLATE_CUSTOM_NOTIFICATION)
    assert n["targets"] is None
    assert n["title"] == "**Build** done"  # markdown is the default format: sent as stored
    assert n["content"] == "See [the logs](https://ci.example/1) & <more>"
    assert n["icon"] == "DEFAULT_ICON_OTHER"  # resolved, never empty
    assert n["actions"] == []
    assert n["read_at"] is None
    assert n["created_at"].endswith("Z")
    assert frame["unread_count"] == 1
    # Go's encoder escapes <, > and & inside strings.
    assert "\\u003cmore\\u003e" in raw and "\\u0026" in raw


async def test_plaintext_format(server: LiveServer) -> None:
    token = server.create_user(unique("plain").replace(" ", "-"))
    async with await open_watch(server, token, "format=plaintext") as ws:
        await send_custom(server, "# **Build** done", "See [the logs](https://ci.example/1).\n\n- a\n- b", token)
        _, frame = await next_frame(ws)
    assert frame["notification"]["title"] == "Build done"
    assert frame["notification"]["content"] == "See the logs (https://ci.example/1).\n\na\nb"


async def test_unknown_format_means_markdown(server: LiveServer) -> None:
    token = server.create_user(unique("fmt2").replace(" ", "-"))
    async with await open_watch(server, token, "format=PlainText") as ws:
        await send_custom(server, "**t**", "m", token)
        _, frame = await next_frame(ws)
    assert frame["notification"]["title"] == "**t**"


async def test_unread_count_is_total_and_unfiltered(server: LiveServer) -> None:
    token = server.create_user(unique("count").replace(" ", "-"))
    # The watcher only wants test notifications; custom ones still count as unread.
    async with await open_watch(server, token, f"templates={TEMPLATE_CUSTOM_NOTIFICATION}") as ws:
        for i in range(3):
            await send_custom(server, f"n{i}", "m", token)
        counts = [(await next_frame(ws))[1]["unread_count"] for _ in range(3)]
    assert counts[-1] == 3
    assert counts == sorted(counts)


# -- filters ---------------------------------------------------------------------------------------


async def test_templates_filter(server: LiveServer) -> None:
    # Test notifications need an owner; custom ones go to the caller, so both land in the owner's inbox.
    async with (
        await open_watch(server, None, f"templates={TEMPLATE_TEST_NOTIFICATION}") as only_test,
        await open_watch(server) as everything,
    ):
        await send_custom(server, unique("custom"), "skipped by the filter")
        async with httpx.AsyncClient(base_url=server.url + "/api/v2", headers=server.headers()) as c:
            assert (await c.post("/notifications/test")).status_code == 204
        seen = [(await next_frame(everything))[1]["notification"]["template_id"] for _ in range(2)]
        assert sorted(seen) == sorted([str(TEMPLATE_CUSTOM_NOTIFICATION), str(TEMPLATE_TEST_NOTIFICATION)])
        _, frame = await next_frame(only_test)
        assert frame["notification"]["template_id"] == str(TEMPLATE_TEST_NOTIFICATION)


async def test_targets_filter_requires_every_target(server: LiveServer) -> None:
    username = unique("targets").replace(" ", "-")
    token = server.create_user(username)
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    async def notify(*targets: uuid.UUID, name: str) -> None:
        args = ["notify", "--user", username, "--template", WORKSPACE_DELETED]
        args += ["--label", f"name={name}", "--label", "reason=test", "--label", "initiator=tester"]
        for t in targets:
            args += ["--target", str(t)]
        # In a thread: the event loop must keep answering the server's pings meanwhile.
        done = await asyncio.to_thread(server.cli, *args)
        assert done.returncode == 0, done.stderr

    async with (
        await open_watch(server, token, f"targets={a},{b}") as both,
        await open_watch(server, token, f"targets={c}") as only_c,
    ):
        await notify(a, name="only-a")  # lacks b: filtered out
        await notify(a, b, c, name="a-b-c")  # has both
        # A user's notifications reach a watcher in order: the first frame being the later one shows the
        # earlier one was filtered out.
        _, frame = await next_frame(both)
        assert "a-b-c" in frame["notification"]["content"]
        assert set(frame["notification"]["targets"]) == {str(a), str(b), str(c)}
        _, frame_c = await next_frame(only_c)
        assert "a-b-c" in frame_c["notification"]["content"]


async def test_read_status_read_drops_new_notifications(server: LiveServer) -> None:
    token = server.create_user(unique("read").replace(" ", "-"))
    async with (
        await open_watch(server, token, "read_status=read") as read_only,
        await open_watch(server, token, "read_status=unread") as unread,
    ):
        await send_custom(server, "new", "m", token)
        _, frame = await next_frame(unread)
        assert frame["notification"]["title"] == "new"
        # New notifications are unread, so a read_status=read watcher never gets them.
        with pytest.raises(TimeoutError):
            await next_frame(read_only, within=0.5)


# -- who gets what -----------------------------------------------------------------------------------


async def test_user_never_receives_another_users_notifications(server: LiveServer) -> None:
    token_a = server.create_user(unique("alice").replace(" ", "-"))
    token_b = server.create_user(unique("bob").replace(" ", "-"))
    async with await open_watch(server, token_a) as alice, await open_watch(server, token_b) as bob:
        for i in range(5):
            await send_custom(server, f"for bob {i}", "m", token_b)
        await send_custom(server, "for alice", "m", token_a)
        _, first = await next_frame(alice)
        assert first["notification"]["title"] == "for alice"
        titles = [(await next_frame(bob))[1]["notification"]["title"] for _ in range(5)]
        assert sorted(titles) == [f"for bob {i}" for i in range(5)]
        with pytest.raises(TimeoutError):
            await next_frame(alice, within=0.3)


async def test_notification_sent_while_connecting_is_received(server: LiveServer) -> None:
    token = server.create_user(unique("instant").replace(" ", "-"))
    for i in range(10):
        # The POST races the handshake; the server subscribes before it accepts, so nothing is lost.
        connect = asyncio.create_task(open_watch(server, token))
        await asyncio.sleep(0)
        ws = await connect
        await send_custom(server, f"instant {i}", "m", token)
        async with ws:
            _, frame = await next_frame(ws)
            assert frame["notification"]["title"] == f"instant {i}"


async def test_several_watchers_of_one_user_each_get_every_frame(server: LiveServer) -> None:
    token = server.create_user(unique("many").replace(" ", "-"))
    watchers = [await open_watch(server, token) for _ in range(5)]
    try:
        for i in range(10):
            await send_custom(server, f"n{i}", "m", token)
        for ws in watchers:
            titles = [(await next_frame(ws))[1]["notification"]["title"] for _ in range(10)]
            assert sorted(titles) == sorted(f"n{i}" for i in range(10))
    finally:
        for ws in watchers:
            await ws.close()


# -- handshake errors ------------------------------------------------------------------------------


async def test_query_errors_are_plain_http_400_before_upgrade(server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as info:
        await open_watch(server, None, "starting_before=abc&targets=nope")
    response = info.value.response
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = json.loads(bytes(response.body))
    assert body["message"] == "Query parameters have invalid values."
    fields = {v["field"] for v in body["validations"]}
    assert fields == {"starting_before", "targets"}

    with pytest.raises(InvalidStatus) as info:
        await open_watch(server, None, "read_status=bogus")
    assert info.value.response.status_code == 400
    assert json.loads(bytes(info.value.response.body)) == {
        "message": "starting_before query parameter should be any of 'all', 'read', 'unread'."
    }


async def test_unauthenticated_is_401_before_upgrade(server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as info:
        await websockets.connect(watch_url(server))
    assert info.value.response.status_code == 401
    assert json.loads(bytes(info.value.response.body))["message"].startswith("You are signed out")


async def test_foreign_origin_is_refused(server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as info:
        await open_watch(server, None, origin=websockets.Origin("https://evil.example"))
    assert info.value.response.status_code == 403
    async with await open_watch(server, None, origin=websockets.Origin(server.url)):
        pass  # the same host is fine


# -- liveness and closing --------------------------------------------------------------------------


async def test_heartbeat_keeps_a_responsive_client(server: LiveServer) -> None:
    token = server.create_user(unique("alive").replace(" ", "-"))
    async with await open_watch(server, token, create_connection=PingCountingConnection) as ws:
        assert isinstance(ws, PingCountingConnection)
        await ws.wait_for_pings(3)  # each answered with a pong by the client library
        await send_custom(server, "still here", "m", token)
        _, frame = await next_frame(ws)
        assert frame["notification"]["title"] == "still here"
        assert ws.pings >= 3


async def test_missed_pong_closes_with_1001(server: LiveServer) -> None:
    raw = await RawWatch.connect(watch_url(server), server.headers())
    try:
        close = await raw.wait_closed(within=PING_INTERVAL * 10)
    finally:
        raw.close()
    assert close is not None
    assert (close.code, close.reason) == (1001, "liveness probe failed")


async def test_client_data_frame_closes_with_1008(server: LiveServer) -> None:
    async with await open_watch(server) as ws:
        await ws.send("hello")
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 10)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1008


async def test_revoked_token_closes_the_socket(server: LiveServer) -> None:
    username = unique("revoke").replace(" ", "-")
    server.create_user(username)
    token = server.create_token(username)
    keep = server.create_token(username)
    async with await open_watch(server, token) as doomed, await open_watch(server, keep) as kept:
        done = await asyncio.to_thread(server.cli, "tokens", "revoke", token)  # the loop answers pings meanwhile
        assert done.returncode == 0, done.stderr
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(doomed.recv(), PING_INTERVAL * 10)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1008
        # The user's other session is untouched.
        await send_custom(server, "still watching", "m", keep)
        _, frame = await next_frame(kept)
        assert frame["notification"]["title"] == "still watching"


async def test_deleted_user_closes_the_socket(server: LiveServer) -> None:
    username = unique("gone").replace(" ", "-")
    token = server.create_user(username)
    async with await open_watch(server, token) as ws:
        done = await asyncio.to_thread(server.cli, "users", "delete", "--username", username)
        assert done.returncode == 0, done.stderr
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), PING_INTERVAL * 10)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1008


async def test_graceful_shutdown_closes_watchers_with_1001(tmp_path: Path) -> None:
    live = LiveServer(tmp_path / "shutdown").start()
    try:
        sockets = [await open_watch(live) for _ in range(3)]
        stopping = asyncio.get_running_loop().run_in_executor(None, live.stop)
        for ws in sockets:
            with pytest.raises(ConnectionClosed) as info:
                await asyncio.wait_for(ws.recv(), 15)
            assert info.value.rcvd is not None
            assert info.value.rcvd.code == 1001
        await stopping
    finally:
        live.stop()
