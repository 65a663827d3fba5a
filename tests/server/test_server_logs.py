"""Server logs: human lines on stderr by default, JSON lines with structured fields, nothing secret."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_server import LiveServer

SECRET_BODY = "body-text-that-must-not-be-logged"
SECRET_TITLE = "title-that-must-not-be-logged"
SMTP_PASSWORD = "smtp-password-that-must-not-be-logged"


def _events(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    complete = text[: text.rfind("\n") + 1]  # a line still being written is read next time
    return [json.loads(line) for line in complete.splitlines()]


async def _wait_for_event(path: Path, match: Any) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            found = [e for e in _events(path) if match(e)]
            if found:
                return found[0]
            await asyncio.sleep(0.05)


async def test_json_log_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODER_EMAIL_AUTH_PASSWORD", SMTP_PASSWORD)
    log_json = tmp_path / "server.json"
    server = LiveServer(
        tmp_path / "server",
        args=[
            "--log-json", str(log_json), "--verbose",
            "--notifications-method", "webhook", "--notifications-webhook-endpoint", "http://127.0.0.1:9/hook",
        ],
    )  # fmt: skip
    server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url + "/api/v2", timeout=30) as c:
            me = await c.get("/users/me", headers=server.headers(server.member_token))
            assert me.status_code == 200
            member_id = me.json()["id"]
            # A token in the query string must not reach the log either (the line names the route pattern).
            assert (await c.get(f"/users/{member_id}", params={"coder_session_token": server.owner_token})).is_success
            sent = await c.post(
                "/notifications/custom",
                headers=server.headers(),
                json={"content": {"title": SECRET_TITLE, "message": SECRET_BODY}},
            )
            assert sent.status_code == 204
        request = await _wait_for_event(log_json, lambda e: e["fields"].get("route") == "/api/v2/users/{user}")
        failure = await _wait_for_event(log_json, lambda e: e["fields"].get("method") == "webhook")
    finally:
        server.stop()

    events = _events(log_json)
    for event in events:
        assert set(event) - {"error"} == {"time", "level", "logger", "message", "fields"}
        assert event["time"].endswith("Z")
        assert datetime.fromisoformat(event["time"]).utcoffset() is not None
        assert event["level"] in {"debug", "info", "warn", "error"}
    assert any(e["logger"] == "server.lifecycle" and e["level"] == "info" for e in events)

    assert request["level"] == "debug"
    assert request["fields"]["method"] == "GET" and request["fields"]["status"] == 200
    assert request["fields"]["remote_addr"] == "127.0.0.1"
    assert isinstance(request["fields"]["duration_ms"], float)
    user_lines = [e["fields"] for e in events if e["fields"].get("route") == "/api/v2/users/{user}"]
    assert len(user_lines) == 2 and member_id in {f["user_id"] for f in user_lines}
    assert all(f["user_id"] for f in user_lines)

    assert failure["level"] == "warn"
    assert failure["fields"]["attempt"] == 1
    assert failure["fields"]["template_id"] == "39b1e189-c857-4b0c-877a-511144c18516"
    assert failure["fields"]["message_id"] and failure["fields"]["error"]

    everything = log_json.read_text() + server.log_path.read_text()
    for secret in (server.owner_token, server.member_token, SMTP_PASSWORD, SECRET_BODY, SECRET_TITLE):
        assert secret not in everything
    assert server.owner_token.split("-")[1] not in everything


async def test_human_logs_on_stderr_and_requests_only_when_verbose(tmp_path: Path) -> None:
    log_human = tmp_path / "human.log"
    server = LiveServer(tmp_path / "server", args=["--log-human", str(log_human)]).start()
    try:
        async with httpx.AsyncClient(base_url=server.url + "/api/v2", timeout=30) as c:
            assert (await c.get("/users/me", headers=server.headers())).status_code == 200
    finally:
        server.stop()
    lines = log_human.read_text().splitlines()
    assert any(" [info] server.lifecycle: configuration networking: http-address=127.0.0.1:" in x for x in lines)
    assert not any("server.request" in line for line in lines)  # requests are debug-level lines
    assert "server.lifecycle" not in server.log_path.read_text()  # stderr is not written when pointed elsewhere

    default = LiveServer(tmp_path / "default").start()
    default.stop()
    assert " [info] server.lifecycle: configuration " in default.log_path.read_text()  # stderr by default
