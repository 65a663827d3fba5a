"""Bad input gets a 4xx in Coder's error shape, never a 500, on both backends (issue 12, section 2).

Each case below answered 500 (with a traceback, and sometimes SQL in the detail) before.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from server.json_depth import MAX_JSON_DEPTH
from server.wire import encode_json
from tests.live_server import LiveServer
from tests.server.helpers import client, seed_inbox, user_id

CUSTOM = "/notifications/custom"
TEST_TEMPLATE = "c425f63e-716a-4bf4-ae24-78348f706c3f"


def assert_coder_4xx(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    """A 4xx whose body is codersdk.Response: message, optional detail, optional validations."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    if status is not None:
        assert response.status_code == status, response.text[:500]
    body = response.json()
    assert isinstance(body, dict) and isinstance(body["message"], str) and body["message"]
    assert set(body) <= {"message", "detail", "validations"}, body
    assert isinstance(body.get("detail", ""), str)
    for item in body.get("validations", []):
        assert set(item) == {"field", "detail"} and all(isinstance(v, str) for v in item.values()), item
    return body


def deep_array(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def deep_object(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


async def body_endpoints(server: LiveServer) -> list[tuple[str, str]]:
    """Every route that decodes a request body, with a path that reaches the decoding."""
    owner = await user_id(server, server.owner_token)
    [row] = await seed_inbox(server, owner, 1)
    return [
        ("PUT", f"/notifications/inbox/{row.id}/read-status"),
        ("PUT", "/notifications/settings"),
        ("PUT", f"/notifications/templates/{TEST_TEMPLATE}/method"),
        ("POST", CUSTOM),
        ("PUT", "/users/me/notifications/preferences"),
    ]


@pytest.mark.parametrize("shape", [deep_array, deep_object])
async def test_deep_json_is_refused_before_decoding(shared_server: LiveServer, shape: Any) -> None:
    async with client(shared_server) as c:
        for method, path in await body_endpoints(shared_server):
            for depth in (MAX_JSON_DEPTH + 1, 1_000, 100_000):
                response = await c.request(method, path, content=shape(depth))
                body = assert_coder_4xx(response, 400)
                assert body["message"] == "Invalid request body", (method, path, body)
            # At the limit the body is decoded as usual (and rejected for its type or content, not depth).
            response = await c.request(method, path, content=shape(MAX_JSON_DEPTH))
            assert response.status_code < 500, (method, path, response.text)
            assert "nested deeper" not in response.text, (method, path, response.text)


@pytest.mark.parametrize("field", ["title", "message"])
@pytest.mark.parametrize("bad", ["\\ud800", "x\\udfffy", "\\u0000", "a\\u0000b"])
async def test_unstorable_strings_in_a_custom_notification(shared_server: LiveServer, field: str, bad: str) -> None:
    content = {"title": '"t"', "message": '"m"'}
    content[field] = f'"{bad}"'
    raw = '{{"content":{{"title":{},"message":{}}}}}'.format(content["title"], content["message"])
    async with client(shared_server) as c:
        body = assert_coder_4xx(await c.post(CUSTOM, content=raw.encode()), 400)
    assert [v["field"] for v in body["validations"]] == [f"content.{field}"], body


async def test_a_nul_in_the_user_parameter(shared_server: LiveServer) -> None:
    async with client(shared_server) as c:
        for path in ("/users/bo%00b", "/users/bo%00b/notifications/preferences", "/users/%00"):
            assert_coder_4xx(await c.get(path), 400)
        assert_coder_4xx(await c.put("/users/bo%00b/notifications/preferences", json={}), 400)


async def test_a_nul_in_the_token_is_a_401(shared_server: LiveServer) -> None:
    key = "abcd%00efgh-" + "x" * 22
    async with httpx.AsyncClient(base_url=shared_server.url + "/api/v2") as c:
        assert_coder_4xx(await c.get(f"/users/me?coder_session_token={key}"), 401)
        assert_coder_4xx(await c.get("/users/me", headers={"Coder-Session-Token": b"abcd\xe9fghi-" + b"x" * 22}), 401)


async def test_many_filter_values_fit_in_one_url(shared_server: LiveServer) -> None:
    owner = await user_id(shared_server, shared_server.owner_token)
    target = uuid.uuid4()
    [row] = await seed_inbox(shared_server, owner, 1, targets=[target], template_id=TEST_TEMPLATE)
    # As many values as an 8 KiB URL holds (36 characters and a comma each).
    count = 8_000 // 37 - 10
    async with client(shared_server) as c:
        for params in (
            {"targets": ",".join([str(target)] * count)},
            {"templates": ",".join([*(str(uuid.uuid4()) for _ in range(count - 1)), TEST_TEMPLATE])},
        ):
            response = await c.get("/notifications/inbox", params=params)
            assert response.status_code == 200, response.text[:300]
            assert str(row.id) in [n["id"] for n in response.json()["notifications"]]


async def test_a_huge_preferences_map_is_refused_at_once(shared_server: LiveServer) -> None:
    huge = {str(uuid.uuid4()): True for _ in range(20_000)}
    async with client(shared_server) as c:
        response = await c.put("/users/me/notifications/preferences", json={"template_disabled_map": huge})
        body = assert_coder_4xx(response, 400)
        assert len(response.content) < 1_000, len(response.content)
        assert "20000" in body.get("detail", ""), body
        assert (await c.get("/users/me/notifications/preferences")).status_code == 200


async def test_unknown_templates_report_ten_validations_then_a_count(shared_server: LiveServer) -> None:
    unknown = {str(uuid.uuid4()): True for _ in range(25)}
    async with client(shared_server) as c:
        response = await c.put("/users/me/notifications/preferences", json={"template_disabled_map": unknown})
    body = assert_coder_4xx(response, 400)
    details = [v["detail"] for v in body["validations"]]
    assert len(details) == 11, details
    assert all("does not exist" in d for d in details[:10])
    assert "15 more" in details[10]


@pytest.mark.parametrize(
    "raw",
    [
        "0x" + "a" * 30,
        "1_" + "a" * 30,
        " " + "a" * 31,
        "+" + "a" * 31,
        "-" + "a" * 31,
        "a" * 31 + "%0A",
        "{" + "a" * 36 + "}",
        "urn:uuid:0x" + "a" * 34,
    ],
)
async def test_non_go_uuids_are_refused_in_paths(shared_server: LiveServer, raw: str) -> None:
    async with client(shared_server) as c:
        response = await c.put(f"/notifications/inbox/{raw}/read-status", json={"is_read": True})
    body = assert_coder_4xx(response, 400)
    assert body["message"].startswith("Invalid UUID"), body


async def test_database_errors_never_reach_the_client(shared_server: LiveServer) -> None:
    """No 4xx or 5xx body of these cases names SQL, a table, or the driver."""
    async with client(shared_server) as c:
        responses = [
            await c.post(CUSTOM, content=b'{"content":{"title":"a\\u0000","message":"m"}}'),
            await c.get("/users/bo%00b"),
            await c.get("/notifications/inbox", params={"targets": ",".join(str(uuid.uuid4()) for _ in range(200))}),
        ]
    for response in responses:
        assert response.status_code < 500, response.text
        text = response.text.lower()
        for word in ("sql", "psycopg", "select", "insert", "expression tree", "nul (0x00)"):
            assert word not in text, (word, response.text)


async def test_lone_surrogates_elsewhere_never_break_the_error_body(shared_server: LiveServer) -> None:
    """Errors about a lone surrogate are still valid UTF-8 JSON."""
    async with client(shared_server) as c:
        method = await c.put(f"/notifications/templates/{TEST_TEMPLATE}/method", content=b'{"method":"x\\ud800"}')
        assert_coder_4xx(method, 400)
        prefs = await c.put(
            "/users/me/notifications/preferences", content=b'{"template_disabled_map":{"\\udfff":true}}'
        )
        assert_coder_4xx(prefs, 400)


def test_error_bodies_encode_lone_surrogates_as_go_does() -> None:
    assert encode_json({"message": "a\ud800b"}) == '{"message":"a\ufffdb"}'.encode()
    assert encode_json({"message": "ok <&>"}) == b'{"message":"ok \\u003c\\u0026\\u003e"}'
