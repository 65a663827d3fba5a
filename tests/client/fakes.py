"""Stand-ins for a real Coder deployment's responses (Coder's quirks, not our server's behaviour)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from inbox_tui.api.client import CoderClient

BASE = datetime(2025, 3, 18, 10, 20, 30, tzinfo=UTC)
JSON = "application/json; charset=utf-8"


def notification_json(
    index: int,
    *,
    read: bool = False,
    user_id: str = "7b0c6a1e-0000-4000-8000-000000000001",
    template_id: str = "f517da0b-cdc9-410f-ab89-a86107c420ed",
) -> dict[str, Any]:
    """One notification as Coder encodes it (nanosecond timestamps, null targets)."""
    created = BASE + timedelta(minutes=index)
    return {
        "id": str(uuid.UUID(int=index + 1)),
        "user_id": user_id,
        "template_id": template_id,
        "targets": None,
        "title": f"Notification {index}",
        "content": f"Body **{index}**",
        "icon": "DEFAULT_ICON_WORKSPACE",
        "actions": [{"label": "View", "url": f"https://coder.example.com/{index}"}],
        "read_at": (created + timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S.123456789Z") if read else None,
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.123456789Z"),
    }


def json_response(status: int, body: Any) -> httpx.Response:
    """A response with Coder's JSON content type (Go's encoder adds a trailing newline)."""
    return httpx.Response(status, content=json.dumps(body).encode() + b"\n", headers={"Content-Type": JSON})


Handler = Callable[[httpx.Request], httpx.Response]


def fake_client(handler: Handler, token: str = "abc-secret") -> CoderClient:
    """A client whose requests go to `handler` instead of the network."""
    return CoderClient("https://coder.example.com", token, transport=httpx.MockTransport(handler))


class FakeInbox:
    """A Coder-like list endpoint over a fixed set of notifications: 25 per page, newest first, cursor."""

    def __init__(self, count: int) -> None:
        self.items = [notification_json(i) for i in range(count)]
        self.requests: list[httpx.Request] = []

    def add(self, index: int) -> dict[str, Any]:
        item = notification_json(index)
        self.items.append(item)
        return item

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        newest_first = sorted(self.items, key=lambda n: n["created_at"], reverse=True)
        cursor = request.url.params.get("starting_before")
        if cursor:
            found = next((n for n in newest_first if n["id"] == cursor), None)
            if found is not None:  # an unknown cursor is silently ignored, as Coder does
                newest_first = [n for n in newest_first if n["created_at"] < found["created_at"]]
        unread = sum(1 for n in self.items if n["read_at"] is None)
        return json_response(200, {"notifications": newest_first[:25], "unread_count": unread})
