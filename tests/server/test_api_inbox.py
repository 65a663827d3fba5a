"""Inbox list, read status and mark-all-as-read against a real server (spec sections 4, 6, 7, 12, 19)."""

from __future__ import annotations

import uuid

import pytest

from tests.live_server import LiveServer
from tests.server.helpers import client, inbox, seed_inbox, user_id

OOM = "a9d027b4-ac49-4fb1-9f6d-45af15f64e7a"
OOD = "f047f6a3-5713-40f7-85aa-0394cce9fa3a"
WS_CREATED = "281fdf73-c6d6-4cbb-8ff5-888baf8a2fff"
ACCOUNT = "4e19c0ac-94e1-4532-9515-d1801aa283b2"
TEMPLATE_DELETED = "29a09665-2a4c-403f-9648-54301670e7be"
CUSTOM = "39b1e189-c857-4b0c-877a-511144c18516"


async def test_empty_inbox_is_an_empty_list(live_server: LiveServer) -> None:
    async with client(live_server) as c:
        response = await c.get("/notifications/inbox")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == {"notifications": [], "unread_count": 0}


async def test_pagination_of_40(live_server: LiveServer) -> None:
    owner = await user_id(live_server, live_server.owner_token)
    await seed_inbox(live_server, owner, 40)
    first = await inbox(live_server)
    assert len(first["notifications"]) == 25
    assert first["notifications"][0]["title"] == "Notification 39"
    assert first["unread_count"] == 40
    second = await inbox(live_server, starting_before=first["notifications"][-1]["id"])
    assert len(second["notifications"]) == 15
    assert second["notifications"][0]["title"] == "Notification 14"
    assert second["unread_count"] == 40
    third = await inbox(live_server, starting_before=second["notifications"][-1]["id"])
    assert third["notifications"] == []
    # An unknown cursor is silently ignored: the first page again.
    again = await inbox(live_server, starting_before=str(uuid.uuid4()))
    assert [n["id"] for n in again["notifications"]] == [n["id"] for n in first["notifications"]]


async def test_cursor_never_skips_rows_with_equal_timestamps(live_server: LiveServer) -> None:
    owner = await user_id(live_server, live_server.owner_token)
    rows = await seed_inbox(live_server, owner, 30)
    # Rewrite them all to one created_at: the (created_at, id) cursor still pages through every row.
    from server.store import open_store

    store = open_store(live_server.db_path)
    await store.open()
    same = rows[0].created_at
    await store.insert_inbox_notifications(
        [
            type(r)(
                id=uuid.uuid4(),
                user_id=r.user_id,
                template_id=r.template_id,
                targets=None,
                title=f"Same {i}",
                content="",
                icon="",
                actions=(),
                read_at=None,
                created_at=same,
            )
            for i, r in enumerate(rows)
        ]
    )
    await store.close()
    seen: list[str] = []
    cursor = None
    while True:
        params = {"starting_before": cursor} if cursor else {}
        page = await inbox(live_server, **params)
        seen += [n["id"] for n in page["notifications"]]
        if len(page["notifications"]) < 25:
            break
        cursor = page["notifications"][-1]["id"]
    assert len(seen) == len(set(seen)) == 60


async def test_shapes_and_icon_fallbacks(live_server: LiveServer) -> None:
    owner = await user_id(live_server, live_server.owner_token)
    await seed_inbox(live_server, owner, 1, template_id=OOM)
    await seed_inbox(live_server, owner, 1, template_id=ACCOUNT)
    await seed_inbox(live_server, owner, 1, template_id=TEMPLATE_DELETED)
    await seed_inbox(live_server, owner, 1, template_id=CUSTOM)
    await seed_inbox(live_server, owner, 1, template_id=OOM, icon="https://example.com/i.png")
    data = await inbox(live_server)
    icons = sorted(n["icon"] for n in data["notifications"])
    assert icons == sorted(
        [
            "DEFAULT_ICON_WORKSPACE",
            "DEFAULT_ICON_ACCOUNT",
            "DEFAULT_ICON_TEMPLATE",
            "DEFAULT_ICON_OTHER",
            "https://example.com/i.png",
        ]
    )
    item = data["notifications"][0]
    assert list(item) == [
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
    assert item["targets"] is None and item["read_at"] is None
    assert item["actions"] == [{"label": "View", "url": "http://example.com/0"}]
    assert item["created_at"].endswith("Z")


async def test_filters(live_server: LiveServer) -> None:
    owner = await user_id(live_server, live_server.owner_token)
    a, b = uuid.uuid4(), uuid.uuid4()
    await seed_inbox(live_server, owner, 5, template_id=OOM, targets=[a, b])
    await seed_inbox(live_server, owner, 3, template_id=OOD, targets=[a])
    await seed_inbox(live_server, owner, 2, template_id=OOD, read=True)
    assert len((await inbox(live_server, templates=OOM))["notifications"]) == 5
    assert len((await inbox(live_server, templates=f"{OOM},{OOD}"))["notifications"]) == 10
    both = await inbox(live_server, targets=str(a))
    assert len(both["notifications"]) == 8 and both["unread_count"] == 8
    assert len((await inbox(live_server, targets=f"{a},{b}"))["notifications"]) == 5
    async with client(live_server) as c:
        repeated = await c.get("/notifications/inbox", params=[("targets", str(a)), ("targets", str(b))])
    assert len(repeated.json()["notifications"]) == 5
    assert len((await inbox(live_server, read_status="read"))["notifications"]) == 2
    assert len((await inbox(live_server, read_status="unread"))["notifications"]) == 8
    combined = await inbox(live_server, templates=OOD, targets=str(a), read_status="unread")
    assert len(combined["notifications"]) == 3
    assert combined["unread_count"] == 8  # the total, unfiltered


@pytest.mark.parametrize(
    ("query", "field", "detail"),
    [
        ("targets=nope", "targets", 'Query param "targets" has invalid values: invalid UUID length: 4'),
        (
            "templates=00000000-0000-0000-0000-00000000000x",
            "templates",
            'Query param "templates" has invalid values: invalid UUID format',
        ),
        (
            f"targets={uuid.UUID(int=1)},",
            "targets",
            'Query param "targets" has invalid values: invalid UUID length: 0',
        ),
        ("starting_before=abc", "starting_before", 'Query param "starting_before" must be a valid uuid'),
        ("limit=5", "limit", '"limit" is not a valid query param'),
        ("format=plaintext", "format", '"format" is not a valid query param'),
        (
            "read_status=all&read_status=read",
            "read_status",
            'Query param "read_status" provided more than once, found 2 times. '
            "Only provide 1 instance of this query param.",
        ),
    ],
)
async def test_list_query_validation(live_server: LiveServer, query: str, field: str, detail: str) -> None:
    async with client(live_server) as c:
        response = await c.get(f"/notifications/inbox?{query}")
    assert response.status_code == 400
    assert response.json() == {
        "message": "Query parameters have invalid values.",
        "validations": [{"field": field, "detail": detail}],
    }


async def test_token_in_the_query_string_is_an_excess_param(live_server: LiveServer) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=live_server.url) as c:
        response = await c.get("/api/v2/notifications/inbox", params={"coder_session_token": live_server.owner_token})
    assert response.status_code == 400
    assert response.json()["validations"] == [
        {"field": "coder_session_token", "detail": '"coder_session_token" is not a valid query param'}
    ]


async def test_bad_read_status_message_names_starting_before(live_server: LiveServer) -> None:
    async with client(live_server) as c:
        response = await c.get("/notifications/inbox", params={"read_status": "READ"})
    assert response.status_code == 400
    assert response.json() == {"message": "starting_before query parameter should be any of 'all', 'read', 'unread'."}


async def test_several_query_errors_are_reported_together(live_server: LiveServer) -> None:
    async with client(live_server) as c:
        response = await c.get("/notifications/inbox?targets=x&offset=3")
    fields = [v["field"] for v in response.json()["validations"]]
    assert fields == ["targets", "offset"]


async def test_read_status(live_server: LiveServer) -> None:
    owner = await user_id(live_server, live_server.owner_token)
    rows = await seed_inbox(live_server, owner, 20)
    target = str(rows[3].id)
    async with client(live_server) as c:
        marked = await c.put(f"/notifications/inbox/{target}/read-status", json={"is_read": True})
        assert marked.status_code == 200
        body = marked.json()
        assert body["unread_count"] == 19 and body["notification"]["read_at"] is not None
        assert body["notification"]["icon"] == "DEFAULT_ICON_WORKSPACE"
        unmarked = await c.put(f"/notifications/inbox/{target}/read-status", json={"is_read": False})
        assert unmarked.json()["unread_count"] == 20
        assert unmarked.json()["notification"]["read_at"] is None
        # A missing field means false, as Go decodes it.
        await c.put(f"/notifications/inbox/{target}/read-status", json={"is_read": True})
        assert (await c.put(f"/notifications/inbox/{target}/read-status", json={})).json()["unread_count"] == 20


async def test_read_status_errors(live_server: LiveServer) -> None:
    owner = await user_id(live_server, live_server.owner_token)
    (row,) = await seed_inbox(live_server, owner, 1)
    async with client(live_server) as c:
        bad = await c.put("/notifications/inbox/xxx-xxx-xxx/read-status", json={"is_read": True})
        assert bad.status_code == 400
        assert bad.json() == {"message": 'Invalid UUID "xxx-xxx-xxx".', "detail": "invalid UUID length: 11"}
        unknown = await c.put(f"/notifications/inbox/{uuid.uuid4()}/read-status", json={"is_read": True})
        assert unknown.status_code == 404
        assert unknown.json() == {"message": "Resource not found or you do not have access to this resource"}
        empty = await c.put(f"/notifications/inbox/{row.id}/read-status", content=b"")
        assert empty.status_code == 400
        assert empty.json() == {"message": "Request body must be valid JSON.", "detail": "EOF"}
        wrong_type = await c.put(f"/notifications/inbox/{row.id}/read-status", json={"is_read": "yes"})
        assert wrong_type.status_code == 400
        assert "cannot unmarshal string" in wrong_type.json()["detail"]
    # A member may not touch the owner's notification, and nothing changes.
    async with client(live_server, live_server.member_token) as c:
        foreign = await c.put(f"/notifications/inbox/{row.id}/read-status", json={"is_read": True})
        assert foreign.status_code == 404
    assert (await inbox(live_server))["unread_count"] == 1


async def test_owner_may_mark_a_members_notification_and_gets_own_count(live_server: LiveServer) -> None:
    member = await user_id(live_server, live_server.member_token)
    owner = await user_id(live_server, live_server.owner_token)
    (row,) = await seed_inbox(live_server, member, 1)
    await seed_inbox(live_server, owner, 3)
    async with client(live_server) as c:
        response = await c.put(f"/notifications/inbox/{row.id}/read-status", json={"is_read": True})
    assert response.status_code == 200
    assert response.json()["notification"]["user_id"] == str(member)
    assert response.json()["unread_count"] == 3
    assert (await inbox(live_server, live_server.member_token))["unread_count"] == 0


async def test_mark_all_as_read(live_server: LiveServer) -> None:
    owner = await user_id(live_server, live_server.owner_token)
    member = await user_id(live_server, live_server.member_token)
    already = await seed_inbox(live_server, owner, 2, read=True)
    await seed_inbox(live_server, owner, 20)
    await seed_inbox(live_server, member, 4)
    async with client(live_server) as c:
        response = await c.put("/notifications/inbox/mark-all-as-read", content=b"ignored, not JSON")
    assert response.status_code == 204 and response.content == b""
    assert (await inbox(live_server))["unread_count"] == 0
    assert (await inbox(live_server, live_server.member_token))["unread_count"] == 4
    read = await inbox(live_server, read_status="read")
    old = {n["id"]: n["read_at"] for n in read["notifications"]}
    kept = [old[str(r.id)] for r in already]
    assert all(k is not None and k.startswith(already[0].read_at.strftime("%Y-%m-%dT%H:%M")) for k in kept)
    await seed_inbox(live_server, owner, 10)
    after = await inbox(live_server)
    assert after["unread_count"] == 10 and len(after["notifications"]) == 25
