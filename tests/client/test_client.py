"""CoderClient against the quirks of real Coder deployments (stood in for by httpx.MockTransport)."""

from __future__ import annotations

import json

import httpx
import pytest

from inbox_tui.api.client import CoderClient, normalize_url
from inbox_tui.api.errors import ApiError
from inbox_tui.api.models import CUSTOM_TEMPLATE_ID, TEST_TEMPLATE_ID, is_template_enabled
from tests.client.fakes import JSON, fake_client, json_response, notification_json

SYSTEM_TEMPLATE = {
    "id": TEST_TEMPLATE_ID,
    "name": "Troubleshooting Notification",
    "title_template": "A test notification",
    "body_template": "This is a test notification.",
    # Coder sends actions as a string holding jsonb text (url before label).
    "actions": '[{"url": "{{base_url}}/deployment/notifications?tab=settings", "label": "View notification settings"}]',
    "group": "Notification Events",
    "method": "",
    "kind": "system",
    "enabled_by_default": True,
}
DEFAULT_OFF = {
    **SYSTEM_TEMPLATE,
    "id": "281fdf73-c6d6-4cbb-8ff5-888baf8a2fff",
    "name": "Workspace Created",
    "actions": "[]",
    "enabled_by_default": False,
}
CUSTOM_TEMPLATE = {
    **SYSTEM_TEMPLATE,
    "id": CUSTOM_TEMPLATE_ID,
    "name": "Custom Notification",
    "kind": "custom",
    "actions": "[]",
    "group": "Custom Events",
}


def test_normalize_url() -> None:
    assert normalize_url("https://coder.example.com/") == "https://coder.example.com"
    assert normalize_url("coder.example.com") == "https://coder.example.com"
    assert normalize_url("http://127.0.0.1:3000/api/v2/") == "http://127.0.0.1:3000"
    assert normalize_url("https://example.com/coder") == "https://example.com/coder"
    with pytest.raises(ValueError):
        normalize_url("ftp://x")
    with pytest.raises(ValueError):
        normalize_url("  ")


async def test_token_header_and_user() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(
            200,
            {"id": "u1", "username": "alice", "email": "a@x", "roles": [{"name": "owner", "display_name": "Owner"}]},
        )

    async with fake_client(handler, token="id-secret") as client:
        user = await client.me()
    assert user.username == "alice" and user.is_owner
    assert seen[0].headers["Coder-Session-Token"] == "id-secret"
    assert seen[0].url.path == "/api/v2/users/me"
    # The token never travels in the query string (list and watch reject unknown params).
    assert "coder_session_token" not in str(seen[0].url)


async def test_list_omits_empty_params_and_joins_lists() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(200, {"notifications": [notification_json(1)], "unread_count": 7})

    async with fake_client(handler) as client:
        page = await client.list_inbox()
        await client.list_inbox(targets=["a", " b "], templates=["t1"], read_status="unread", starting_before="c")
    assert dict(seen[0].url.params) == {}
    assert dict(seen[1].url.params) == {
        "targets": "a,b",
        "templates": "t1",
        "read_status": "unread",
        "starting_before": "c",
    }
    assert page.unread_count == 7
    only = page.notifications[0]
    assert only.title == "Notification 1" and only.targets is None and not only.is_read
    # Nanosecond timestamps are accepted.
    assert only.created_at.microsecond == 123456


async def test_list_null_notifications_from_old_servers() -> None:
    async with fake_client(lambda r: json_response(200, {"notifications": None, "unread_count": 0})) as client:
        page = await client.list_inbox()
    assert page.notifications == () and page.unread_count == 0


async def test_set_read_body_and_response() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(200, {"notification": notification_json(3, read=True), "unread_count": 4})

    async with fake_client(handler) as client:
        event = await client.set_read("00000000-0000-0000-0000-000000000004", True)
    assert seen[0].method == "PUT"
    assert seen[0].url.path == "/api/v2/notifications/inbox/00000000-0000-0000-0000-000000000004/read-status"
    assert json.loads(seen[0].content) == {"is_read": True}
    assert seen[0].headers["Content-Type"] == "application/json"
    assert event.notification.is_read and event.unread_count == 4


async def test_set_read_unknown_id_is_a_500_from_coder() -> None:
    body = {"message": "Failed to update inbox notification read status."}
    async with fake_client(lambda r: json_response(500, body)) as client:
        with pytest.raises(ApiError) as info:
            await client.set_read("00000000-0000-0000-0000-000000000009", True)
    assert info.value.status == 500
    assert "unexpected status code 500: Failed to update inbox notification read status." in str(info.value)


async def test_set_read_escapes_path() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(400, {"message": 'Invalid UUID "../x".', "detail": "invalid UUID length: 4"})

    async with fake_client(handler) as client:
        with pytest.raises(ApiError):
            await client.set_read("../x", True)
    assert seen[0].url.raw_path.startswith(b"/api/v2/notifications/inbox/..%2Fx/read-status")


async def test_mark_all_read_204() -> None:
    async with fake_client(lambda r: httpx.Response(204)) as client:
        await client.mark_all_read()


@pytest.mark.parametrize("status", [200, 304])
async def test_set_paused_200_and_304_succeed(status: int) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if status == 304:
            return httpx.Response(304)
        return json_response(200, {"notifier_paused": True})

    async with fake_client(handler) as client:
        await client.set_paused(True)
    assert json.loads(seen[0].content) == {"notifier_paused": True}


async def test_settings() -> None:
    async with fake_client(lambda r: json_response(200, {"notifier_paused": True})) as client:
        assert (await client.settings()).notifier_paused


async def test_templates_actions_string_and_both_kinds() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/system"):
            return json_response(200, [SYSTEM_TEMPLATE, DEFAULT_OFF])
        return json_response(200, [CUSTOM_TEMPLATE])

    async with fake_client(handler) as client:
        templates = await client.templates()
    assert [t.name for t in templates] == ["Troubleshooting Notification", "Workspace Created", "Custom Notification"]
    assert templates[0].actions[0].label == "View notification settings"
    assert templates[0].actions[0].url == "{{base_url}}/deployment/notifications?tab=settings"
    assert templates[2].kind == "custom"


async def test_templates_older_server_without_custom_endpoint() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/system"):
            return json_response(200, [SYSTEM_TEMPLATE])
        return json_response(404, {"message": "Route not found."})

    async with fake_client(handler) as client:
        templates = await client.templates()
    assert [t.id for t in templates] == [TEST_TEMPLATE_ID]


async def test_templates_null_list() -> None:
    async with fake_client(lambda r: json_response(200, None)) as client:
        assert await client.custom_templates() == []


async def test_templates_other_errors_still_raise() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/system"):
            return json_response(200, [SYSTEM_TEMPLATE])
        return json_response(500, {"message": 'Failed to retrieve "custom" notifications templates.'})

    async with fake_client(handler) as client:
        with pytest.raises(ApiError):
            await client.templates()


@pytest.mark.parametrize(
    "body",
    [
        {"available": ["smtp", "webhook"], "default": "smtp"},
        [{"available": ["smtp", "webhook"], "default": "smtp"}],  # as swagger once documented it
    ],
)
async def test_dispatch_methods_object_or_array(body: object) -> None:
    async with fake_client(lambda r: json_response(200, body)) as client:
        methods = await client.dispatch_methods()
    assert methods.available == ("smtp", "webhook") and methods.default == "smtp"


@pytest.mark.parametrize("status", [200, 304])
async def test_set_template_method(status: int) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if status == 304:
            return httpx.Response(304)
        return json_response(200, {"message": "Successfully updated notification template method."})

    async with fake_client(handler) as client:
        await client.set_template_method(TEST_TEMPLATE_ID, "webhook")
    assert seen[0].url.path == f"/api/v2/notifications/templates/{TEST_TEMPLATE_ID}/method"
    assert json.loads(seen[0].content) == {"method": "webhook"}


@pytest.mark.parametrize("status", [200, 204])
async def test_send_test_accepts_old_200_and_new_204(status: int) -> None:
    async with fake_client(lambda r: httpx.Response(status)) as client:
        await client.send_test()


async def test_send_custom_body_and_400_detail() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(
            400,
            {"message": "Invalid request body", "detail": "provide a non-empty 'content.title' and 'content.message'"},
        )

    async with fake_client(handler) as client:
        with pytest.raises(ApiError) as info:
            await client.send_custom("", "x")
    assert json.loads(seen[0].content) == {"content": {"title": "", "message": "x"}}
    assert info.value.detail == "provide a non-empty 'content.title' and 'content.message'"


async def test_preferences_null_means_none() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"null\n", headers={"Content-Type": JSON})

    async with fake_client(handler) as client:
        assert await client.preferences() == {}
        assert await client.preferences("bob") == {}
    assert seen[0].url.path == "/api/v2/users/me/notifications/preferences"
    assert seen[1].url.path == "/api/v2/users/bob/notifications/preferences"


async def test_update_preferences_sends_only_changes_and_opt_in_works() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(
            200, [{"id": DEFAULT_OFF["id"], "disabled": False, "updated_at": "2025-03-18T10:20:30.5Z"}]
        )

    async with fake_client(handler) as client:
        prefs = await client.update_preferences({str(DEFAULT_OFF["id"]): False})
    assert json.loads(seen[0].content) == {"template_disabled_map": {DEFAULT_OFF["id"]: False}}
    assert seen[0].method == "PUT"
    from inbox_tui.api.models import NotificationTemplate

    template = NotificationTemplate.from_json(DEFAULT_OFF)
    assert not is_template_enabled(template, {})
    assert is_template_enabled(template, prefs)  # the explicit row wins over enabled_by_default


async def test_buildinfo() -> None:
    async with fake_client(lambda r: json_response(200, {"version": "v2.20.0"})) as client:
        assert (await client.buildinfo())["version"] == "v2.20.0"


def test_watch_url() -> None:
    client = CoderClient("https://coder.example.com/", "t")
    assert client.watch_url() == "wss://coder.example.com/api/v2/notifications/inbox/watch"
    assert client.watch_url(read_status="unread", format="plaintext", templates=["a", "b"]) == (
        "wss://coder.example.com/api/v2/notifications/inbox/watch?templates=a%2Cb&read_status=unread&format=plaintext"
    )
    plain = CoderClient("http://127.0.0.1:3000", "t")
    assert plain.watch_url().startswith("ws://127.0.0.1:3000/")
    assert plain.auth_headers["Coder-Session-Token"] == "t"


def test_loopback_detection() -> None:
    from inbox_tui.api.client import is_loopback_url

    assert is_loopback_url("http://127.0.0.1:3000")
    assert is_loopback_url("http://localhost:1")
    assert is_loopback_url("http://[::1]:8080")
    assert not is_loopback_url("https://coder.example.com")
    assert not is_loopback_url("http://10.0.0.1")


async def test_environment_proxy_never_applies_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # a proxy that does not exist
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    from tests.client.test_watch import FakeCoder

    fake = FakeCoder()
    async with fake.running() as url:
        # The watch endpoint answers the upgrade; a direct (unproxied) connection reaches it.
        from inbox_tui.api.watch import Arrived, InboxWatcher

        async with CoderClient(url, "t") as client:
            assert not client._http.trust_env
            watcher = InboxWatcher(client)
            async for item in watcher:
                if isinstance(item, Arrived):
                    watcher.stop()
