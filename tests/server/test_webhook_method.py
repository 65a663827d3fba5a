"""The webhook dispatch method against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.config import WebhookConfig
from server.notify.methods.base import DispatchError, RenderedMessage
from server.notify.methods.webhook import WebhookMethod
from server.notify.plaintext import plaintext_from_markdown
from tests.live_server import LiveServer


class Receiver:
    """A real HTTP server that records each POST and answers with the next scripted status."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []  # consumed one per request; 200 once empty
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                reply = b"x" * 100_000 if status >= 400 else b"ok"
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def message(**overrides: Any) -> RenderedMessage:
    title = 'Workspace "bobby-workspace" deleted'
    body = 'Your workspace **bobby-workspace** was deleted.\n\nThe specified reason was "**dormancy**".'
    values: dict[str, Any] = {
        "message_id": uuid.UUID("11111111-2222-3333-4444-555555555555"),
        "template_id": uuid.UUID("f517da0b-cdc9-410f-ab89-a86107c420ed"),
        "notification_name": "Workspace Deleted",
        "user_id": uuid.UUID("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"),
        "user_email": "bobby@coder.com",
        "user_name": "Bobby",
        "user_username": "bobby",
        "title": title,
        "body": body,
        "title_plaintext": plaintext_from_markdown(title),
        "body_plaintext": plaintext_from_markdown(body),
        "actions": [{"label": "View workspaces", "url": "http://test.com/workspaces"}],
        "labels": {"reason": "dormancy", "name": "bobby-workspace", "initiator": "autobuild"},
        "data": {"z": 1, "a": {"y": 2, "b": [1, "<x>"]}},
        "targets": [uuid.UUID("00000000-0000-0000-0000-000000000001")],
        "created_at": datetime.now(UTC),
    }
    values.update(overrides)
    return RenderedMessage(**values)


async def test_payload_shaped_like_coder(receiver: Receiver) -> None:
    method = WebhookMethod(WebhookConfig(url=receiver.url))
    try:
        await method.dispatch(message())
    finally:
        await method.aclose()

    assert len(receiver.requests) == 1
    headers, raw = receiver.requests[0]
    assert headers["content-type"] == "application/json"
    assert headers["x-message-id"] == "11111111-2222-3333-4444-555555555555"
    body = json.loads(raw)
    # Field order as Go encodes dispatch.WebhookPayload and types.MessagePayload.
    assert list(body) == ["_version", "msg_id", "payload", "title", "title_markdown", "body", "body_markdown"]
    assert body["_version"] == "1.1"
    assert body["msg_id"] == "11111111-2222-3333-4444-555555555555"
    assert body["title"] == 'Workspace "bobby-workspace" deleted'
    assert body["title_markdown"] == 'Workspace "bobby-workspace" deleted'
    assert body["body"] == 'Your workspace bobby-workspace was deleted.\n\nThe specified reason was "dormancy".'
    assert body["body_markdown"].startswith("Your workspace **bobby-workspace**")
    payload = body["payload"]
    assert list(payload) == [
        "_version",
        "notification_name",
        "notification_template_id",
        "user_id",
        "user_email",
        "user_name",
        "user_username",
        "actions",
        "labels",
        "data",
        "targets",
    ]
    assert payload["_version"] == "1.2"
    assert payload["notification_name"] == "Workspace Deleted"
    assert payload["notification_template_id"] == "f517da0b-cdc9-410f-ab89-a86107c420ed"
    assert payload["user_id"] == "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    assert (payload["user_email"], payload["user_name"], payload["user_username"]) == (
        "bobby@coder.com",
        "Bobby",
        "bobby",
    )
    assert payload["actions"] == [{"label": "View workspaces", "url": "http://test.com/workspaces"}]
    # Go writes map keys sorted, at every depth, and escapes <, > and &.
    assert list(payload["labels"]) == ["initiator", "name", "reason"]
    assert list(payload["data"]) == ["a", "z"] and list(payload["data"]["a"]) == ["b", "y"]
    assert b"\\u003cx\\u003e" in raw
    assert payload["targets"] == ["00000000-0000-0000-0000-000000000001"]


async def test_null_targets_and_data(receiver: Receiver) -> None:
    method = WebhookMethod(WebhookConfig(url=receiver.url))
    try:
        await method.dispatch(message(targets=None, data=None))
    finally:
        await method.aclose()
    payload = json.loads(receiver.requests[0][1])["payload"]
    assert payload["targets"] is None
    assert payload["data"] is None


@pytest.mark.parametrize(("status", "temporary"), [(500, True), (503, True), (429, True), (400, False), (404, False)])
async def test_failure_statuses(receiver: Receiver, status: int, temporary: bool) -> None:
    receiver.statuses = [status]
    method = WebhookMethod(WebhookConfig(url=receiver.url))
    try:
        with pytest.raises(DispatchError) as info:
            await method.dispatch(message())
    finally:
        await method.aclose()
    assert info.value.temporary is temporary
    assert f"({status})" in str(info.value)


async def test_one_client_reused_across_messages(receiver: Receiver) -> None:
    method = WebhookMethod(WebhookConfig(url=receiver.url))
    try:
        for _ in range(5):
            await method.dispatch(message(message_id=uuid.uuid4()))
    finally:
        await method.aclose()
    assert len(receiver.requests) == 5
    assert len({h["x-message-id"] for h, _ in receiver.requests}) == 5


async def test_unreachable_endpoint_is_temporary() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    method = WebhookMethod(WebhookConfig(url=f"http://127.0.0.1:{port}/hook", timeout=5))
    try:
        with pytest.raises(DispatchError) as info:
            await method.dispatch(message())
    finally:
        await method.aclose()
    assert info.value.temporary is True


async def test_receiver_that_never_answers_times_out() -> None:
    # A listening socket that accepts nothing: the request times out and is retried later.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(0)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
        method = WebhookMethod(WebhookConfig(url=url, timeout=0.5))
        try:
            with pytest.raises(DispatchError) as info:
                await method.dispatch(message())
        finally:
            await method.aclose()
    assert info.value.temporary is True


async def test_server_retries_a_failing_receiver_until_it_succeeds(receiver: Receiver, tmp_path: Path) -> None:
    receiver.statuses = [500, 503]  # fails twice, then accepts
    server = LiveServer(
        tmp_path / "server",
        args=["--notifications-method", "webhook", "--webhook-url", receiver.url, "--retry-interval", "0.1"],
    ).start()
    try:
        async with httpx.AsyncClient(base_url=server.url + "/api/v2", headers=server.headers()) as c:
            response = await c.post(
                "/notifications/custom", json={"content": {"title": "**Deploy** done", "message": "All green."}}
            )
            assert response.status_code == 204
        async with asyncio.timeout(30):
            while len(receiver.requests) < 3:  # noqa: ASYNC110 - the receiver runs in its own thread
                await asyncio.sleep(0.05)
    finally:
        server.stop()

    ids = {headers["x-message-id"] for headers, _ in receiver.requests}
    assert len(ids) == 1, "the same message is retried"
    body = json.loads(receiver.requests[-1][1])
    assert body["msg_id"] == ids.pop()
    assert body["title"] == "Deploy done"
    assert body["title_markdown"] == "**Deploy** done"
    assert body["body"] == "All green."
    assert body["payload"]["notification_template_id"] == "39b1e189-c857-4b0c-877a-511144c18516"
    assert body["payload"]["user_username"] == server.owner_username
    assert body["payload"]["labels"] == {"custom_message": "All green.", "custom_title": "**Deploy** done"}
