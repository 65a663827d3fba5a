"""Test and custom notifications, preferences and the pause flag, end to end (spec 10, 11, 13, 14, 15)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.live_server import LiveServer
from tests.server.helpers import client, inbox, message_count, notifier_looked, user_id, wait_for

CUSTOM = "39b1e189-c857-4b0c-877a-511144c18516"
TEST = "c425f63e-716a-4bf4-ae24-78348f706c3f"
WS_CREATED = "281fdf73-c6d6-4cbb-8ff5-888baf8a2fff"
WS_DELETED = "f517da0b-cdc9-410f-ab89-a86107c420ed"


async def _arrived(server: LiveServer, token: str, count: int) -> list[dict[str, Any]]:
    async def check() -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = (await inbox(server, token))["notifications"]
        return items if len(items) >= count else None

    return await wait_for(check)


async def test_owner_sends_a_test_notification(live_server: LiveServer) -> None:
    async with client(live_server) as c:
        response = await c.post("/notifications/test")
    assert response.status_code == 204 and response.content == b""
    (item,) = await _arrived(live_server, live_server.owner_token, 1)
    assert item["template_id"] == TEST
    assert item["title"] == "A test notification"
    assert item["content"] == "This is a test notification."
    assert item["actions"] == [
        {
            "label": "View notification settings",
            "url": f"{live_server.url}/deployment/notifications?tab=settings",
        }
    ]
    assert item["targets"] is None and item["icon"] == "DEFAULT_ICON_OTHER"


async def test_member_cannot_send_a_test_notification(live_server: LiveServer) -> None:
    async with client(live_server, live_server.member_token) as c:
        response = await c.post("/notifications/test")
    assert response.status_code == 403 and response.json()["message"] == "Forbidden."
    assert await message_count(live_server) == 0  # nothing was queued, so nothing can arrive


async def test_custom_notification_is_delivered_verbatim(live_server: LiveServer) -> None:
    title = "Build **done** <ok> & {{ .Labels.x }}"
    message = "# Report\n\n- 3 passed\n- [logs](https://ci.example.com/1)"
    async with client(live_server, live_server.member_token) as c:
        response = await c.post("/notifications/custom", json={"content": {"title": title, "message": message}})
    assert response.status_code == 204
    (item,) = await _arrived(live_server, live_server.member_token, 1)
    member = await user_id(live_server, live_server.member_token)
    assert item["user_id"] == str(member)
    assert (item["title"], item["content"]) == (title, message)
    assert item["template_id"] == CUSTOM and item["actions"] == [] and item["targets"] is None
    assert item["read_at"] is None and item["icon"] == "DEFAULT_ICON_OTHER"


async def _clear_of_a_minute_boundary() -> None:
    """Custom notifications are deduplicated within one UTC minute: start two identical posts well inside one."""
    now = datetime.now(UTC)
    if now.second >= 55:
        await asyncio.sleep(60 - now.second - now.microsecond / 1e6 + 0.05)


async def test_identical_custom_content_in_one_minute_is_deduplicated(live_server: LiveServer) -> None:
    body = {"content": {"title": "same", "message": "same"}}
    await _clear_of_a_minute_boundary()
    async with client(live_server, live_server.member_token) as c:
        assert (await c.post("/notifications/custom", json=body)).status_code == 204
        assert (await c.post("/notifications/custom", json=body)).status_code == 204  # dropped, still 204
        body2 = {"content": {"title": "other", "message": "same"}}
        assert (await c.post("/notifications/custom", json=body2)).status_code == 204
    # Enqueueing is done when the request answers: the repeat was never queued.
    assert await message_count(live_server) == 2
    items = await _arrived(live_server, live_server.member_token, 2)
    assert sorted(item["title"] for item in items) == ["other", "same"]  # exactly these two
    assert await message_count(live_server, "sent") == 2  # everything queued is delivered: nothing more comes


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({}, 400, {"message": "Invalid request body", "detail": "content is required"}),
        ({"content": None}, 400, {"message": "Invalid request body", "detail": "content is required"}),
        (
            {"content": {"title": " ", "message": "x"}},
            400,
            {
                "message": "Invalid request body",
                "detail": "provide a non-empty 'content.title' and 'content.message'",
            },
        ),
        (
            {"content": {"title": "x", "message": "\n\t"}},
            400,
            {
                "message": "Invalid request body",
                "detail": "provide a non-empty 'content.title' and 'content.message'",
            },
        ),
        (
            {"content": {"title": "\u00a0\u3000", "message": "m"}},
            400,
            {"message": "Invalid request body", "detail": "provide a non-empty 'content.title' and 'content.message'"},
        ),
        (
            {"content": {"title": "x" * 121, "message": "m"}},
            400,
            {"message": "Invalid request body", "detail": "'content.title' must be less than 120 characters"},
        ),
        (
            {"content": {"title": "é" * 61, "message": "m"}},
            400,
            {"message": "Invalid request body", "detail": "'content.title' must be less than 120 characters"},
        ),
        (
            {"content": {"title": "t", "message": "m" * 2001}},
            400,
            {
                "message": "Invalid request body",
                "detail": "'content.message' must be less than 2000 characters",
            },
        ),
    ],
)
async def test_custom_validation(live_server: LiveServer, body: dict[str, Any], status: int, expected: Any) -> None:
    async with client(live_server, live_server.member_token) as c:
        response = await c.post("/notifications/custom", json=body)
    assert response.status_code == status
    assert response.json() == expected


async def test_custom_limits_are_inclusive_and_bad_json_is_refused(live_server: LiveServer) -> None:
    async with client(live_server, live_server.member_token) as c:
        ok = await c.post("/notifications/custom", json={"content": {"title": "t" * 120, "message": "m" * 2000}})
        assert ok.status_code == 204
        # Go's TrimSpace keeps the information separators \x1c-\x1f, so this title is not blank.
        separators = await c.post("/notifications/custom", json={"content": {"title": "\x1c\x1f", "message": "m"}})
        assert separators.status_code == 204
        malformed = await c.post("/notifications/custom", content=b'{"content": ')
        assert malformed.status_code == 400 and malformed.json()["message"] == "Request body must be valid JSON."
        wrong = await c.post("/notifications/custom", json={"content": {"title": 5, "message": "m"}})
        assert wrong.status_code == 400 and "cannot unmarshal number" in wrong.json()["detail"]
    await _arrived(live_server, live_server.member_token, 2)


async def test_system_user_cannot_send_custom(live_server: LiveServer) -> None:
    token = live_server.create_user("prebuilds", system=True)
    async with client(live_server, token) as c:
        response = await c.post("/notifications/custom", json={"content": {"title": "t", "message": "m"}})
    assert response.status_code == 403
    assert response.json() == {
        "message": "Forbidden",
        "detail": "System users cannot send custom notifications.",
    }


async def test_preferences_crud_and_authorization(live_server: LiveServer) -> None:
    other = live_server.create_user("other")
    member_id = await user_id(live_server, live_server.member_token)
    async with client(live_server, live_server.member_token) as c:
        fresh = await c.get("/users/me/notifications/preferences")
        assert fresh.status_code == 200 and fresh.json() is None
        added = await c.put("/users/me/notifications/preferences", json={"template_disabled_map": {WS_DELETED: True}})
        assert added.status_code == 200
        (row,) = added.json()
        assert row["id"] == WS_DELETED and row["disabled"] is True and row["updated_at"].endswith("Z")
        merged = await c.put(
            f"/users/{member_id}/notifications/preferences", json={"template_disabled_map": {CUSTOM: True}}
        )
        assert {r["id"]: r["disabled"] for r in merged.json()} == {WS_DELETED: True, CUSTOM: True}
        flipped = await c.put(
            "/users/member/notifications/preferences", json={"template_disabled_map": {CUSTOM: False}}
        )
        assert {r["id"]: r["disabled"] for r in flipped.json()} == {WS_DELETED: True, CUSTOM: False}
        noop = await c.put("/users/me/notifications/preferences", json={})
        assert len(noop.json()) == 2
        assert (await c.get("/users/other/notifications/preferences")).status_code == 404
        assert (await c.get("/users/nobody/notifications/preferences")).status_code == 404
        bad_key = await c.put("/users/me/notifications/preferences", json={"template_disabled_map": {"x": True}})
        assert bad_key.status_code == 400
        assert bad_key.json() == {
            "message": "Unable to parse notification template UUID.",
            "detail": "invalid UUID length: 1",
        }
        unknown = str(uuid.uuid4())
        rejected = await c.put(
            "/users/me/notifications/preferences",
            json={"template_disabled_map": {unknown: True, WS_DELETED: False}},
        )
        assert rejected.status_code == 400
        assert rejected.json()["validations"][0]["field"] == "template_disabled_map"
        after = (await c.get("/users/me/notifications/preferences")).json()
        assert {r["id"]: r["disabled"] for r in after} == {WS_DELETED: True, CUSTOM: False}
        empty_user = await c.get("/users//notifications/preferences")
        assert empty_user.status_code == 400 and empty_user.json() == {"message": '"user" must be provided.'}
    async with client(live_server) as owner:
        seen = await owner.get("/users/member/notifications/preferences")
        assert len(seen.json()) == 2
        changed = await owner.put(
            "/users/other/notifications/preferences", json={"template_disabled_map": {CUSTOM: True}}
        )
        assert changed.status_code == 200
    async with client(live_server, other) as c:
        assert (await c.get("/users/me/notifications/preferences")).json()[0]["disabled"] is True


async def test_disabled_template_is_not_delivered(live_server: LiveServer) -> None:
    async with client(live_server, live_server.member_token) as c:
        await c.put("/users/me/notifications/preferences", json={"template_disabled_map": {CUSTOM: True}})
        response = await c.post("/notifications/custom", json={"content": {"title": "t", "message": "m"}})
        assert response.status_code == 204
        await c.put("/users/me/notifications/preferences", json={"template_disabled_map": {CUSTOM: False}})
        await c.post("/notifications/custom", json={"content": {"title": "after", "message": "m"}})
    (item,) = await _arrived(live_server, live_server.member_token, 1)
    assert item["title"] == "after"


async def test_default_off_template_needs_an_explicit_opt_in(live_server: LiveServer) -> None:
    def notify() -> None:
        done = live_server.cli(
            "notify", "--user", "member", "--template", "Workspace Created",
            "--label", "workspace=api", "--label", "template=docker",
            "--label", "version=v1", "--label", f"nonce={uuid.uuid4()}",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    notify()
    assert await message_count(live_server) == 0  # skipped when queued: nothing can arrive
    async with client(live_server, live_server.member_token) as c:
        await c.put("/users/me/notifications/preferences", json={"template_disabled_map": {WS_CREATED: False}})
    notify()
    (item,) = await _arrived(live_server, live_server.member_token, 1)
    assert item["template_id"] == WS_CREATED


async def test_paused_notifier_keeps_messages_until_resumed(live_server: LiveServer) -> None:
    async with client(live_server) as owner:
        assert (await owner.put("/notifications/settings", json={"notifier_paused": True})).status_code == 200
        async with client(live_server, live_server.member_token) as c:
            response = await c.post("/notifications/custom", json={"content": {"title": "held", "message": "m"}})
            assert response.status_code == 204
            await notifier_looked(live_server)  # the notifier has seen the message, and held it
            assert await message_count(live_server, "pending") == 1
            assert (await c.get("/notifications/inbox")).json()["notifications"] == []
            # Reading and marking keep working while paused.
            assert (await c.put("/notifications/inbox/mark-all-as-read")).status_code == 204
        await owner.put("/notifications/settings", json={"notifier_paused": False})
    (item,) = await _arrived(live_server, live_server.member_token, 1)
    assert item["title"] == "held"


async def test_template_disabled_while_queued_is_inhibited(live_server: LiveServer) -> None:
    async with client(live_server) as owner, client(live_server, live_server.member_token) as c:
        assert (await owner.put("/notifications/settings", json={"notifier_paused": True})).status_code == 200
        response = await c.post("/notifications/custom", json={"content": {"title": "unwanted", "message": "m"}})
        assert response.status_code == 204
        assert await message_count(live_server, "pending") == 1
        await c.put("/users/me/notifications/preferences", json={"template_disabled_map": {CUSTOM: True}})
        await owner.put("/notifications/settings", json={"notifier_paused": False})

        async def inhibited() -> bool:
            return await message_count(live_server, "inhibited") == 1

        await wait_for(inhibited)  # the notifier saw the message and dropped it when leasing
    assert await message_count(live_server) == 1
    assert (await inbox(live_server, live_server.member_token))["notifications"] == []
