"""Authentication, rate limits, routing and body handling (spec sections 1.1, 1.2)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.live_server import LiveServer
from tests.server.helpers import API, client, wait_for

SIGNED_OUT = "You are signed out or your session has expired. Please sign in again to continue."


async def test_missing_and_malformed_tokens(shared_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=shared_server.url + API) as c:
        missing = await c.get("/notifications/inbox")
        assert missing.status_code == 401
        assert missing.json() == {
            "message": SIGNED_OUT,
            "detail": 'Cookie "coder_session_token" or query parameter must be provided.',
        }
        malformed = await c.get("/notifications/inbox", headers={"Coder-Session-Token": "nope"})
        assert malformed.status_code == 401
        assert malformed.json()["detail"].startswith("Invalid API key format: ")
        key_id = shared_server.owner_token.split("-")[0]
        wrong = await c.get("/notifications/inbox", headers={"Coder-Session-Token": f"{key_id}-{'x' * 22}"})
        assert wrong.status_code == 401 and wrong.json()["detail"] == "API key secret is invalid."
        unknown = await c.get("/notifications/inbox", headers={"Coder-Session-Token": f"{'a' * 10}-{'x' * 22}"})
        assert unknown.status_code == 401 and unknown.json()["detail"] == "API key is invalid."


async def test_every_token_location(shared_server: LiveServer) -> None:
    token = shared_server.member_token
    async with httpx.AsyncClient(base_url=shared_server.url + API) as c:
        assert (await c.get("/users/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200
        assert (await c.get("/users/me", headers={"Coder-Session-Token": token})).status_code == 200
        assert (await c.get("/users/me", headers={"Cookie": f"coder_session_token={token}"})).status_code == 200
        assert (await c.get("/users/me", params={"coder_session_token": token})).status_code == 200
        assert (await c.get("/users/me", params={"access_token": token})).status_code == 200


async def test_revoked_token_is_refused_within_the_session_cache_ttl(live_server: LiveServer) -> None:
    token = live_server.create_token(live_server.member_username)
    async with client(live_server, token) as c:
        assert (await c.get("/users/me")).status_code == 200
        assert live_server.cli("tokens", "revoke", token).returncode == 0

        async def refused() -> bool:
            return (await c.get("/users/me")).status_code == 401

        # Verified sessions are cached for one second (server.auth.SessionCache).
        await wait_for(refused, within=3)
        # Other tokens of the same user keep working.
    async with client(live_server, live_server.member_token) as c:
        assert (await c.get("/users/me")).status_code == 200


async def test_users_me_and_buildinfo(shared_server: LiveServer) -> None:
    async with client(shared_server) as c:
        me = (await c.get("/users/me")).json()
        assert me["username"] == "owner"
        assert {"id", "username", "email", "name", "roles", "status", "created_at"} <= set(me)
        assert [r["name"] for r in me["roles"]] == ["owner"]
    async with httpx.AsyncClient(base_url=shared_server.url + API) as anonymous:
        info = await anonymous.get("/buildinfo")
        assert info.status_code == 200 and info.json()["version"].startswith("v2.")


async def test_unknown_route_and_wrong_method(shared_server: LiveServer) -> None:
    async with client(shared_server) as c:
        missing = await c.get("/notifications/nothing-here")
        assert missing.status_code == 404 and missing.json() == {"message": "Route not found."}
        wrong = await c.delete("/notifications/settings")
        assert wrong.status_code == 405


async def test_body_too_large(shared_server: LiveServer) -> None:
    big = b'{"content": {"title": "x", "message": "' + b"y" * (4 * 1024 * 1024) + b'"}}'
    async with client(shared_server, shared_server.member_token) as c:
        response = await c.post("/notifications/custom", content=big)
        assert response.status_code == 413
        assert response.json() == {
            "message": "Request body too large.",
            "detail": "Maximum request body size is 4194304 bytes.",
        }
        before = (await c.get("/notifications/inbox")).json()["unread_count"]
        assert before == 0


async def test_plain_get_on_watch_is_refused_after_validation(shared_server: LiveServer) -> None:
    async with client(shared_server) as c:
        invalid = await c.get("/notifications/inbox/watch", params={"starting_before": "x"})
        assert invalid.status_code == 400
        plain = await c.get("/notifications/inbox/watch")
        assert plain.status_code == 426
        assert plain.json()["message"] == "Failed to upgrade connection to websocket."


async def test_rate_limit(tmp_path: Path) -> None:
    server = LiveServer(tmp_path, args=["--api-rate-limit", "5"]).start()
    try:
        async with client(server, server.member_token) as c:
            codes = [(await c.get("/notifications/settings")).status_code for _ in range(5)]
            assert codes == [200] * 5
            limited = await c.get("/notifications/settings")
            assert limited.status_code == 429
            assert limited.json() == {"message": "You've been rate limited for sending more than 5 requests in 1m0s."}
            assert int(limited.headers["retry-after"]) >= 1
            # Limits are per endpoint: another endpoint still answers.
            assert (await c.get("/notifications/dispatch-methods")).status_code == 200
        async with client(server) as owner:
            for _ in range(7):
                response = await owner.get("/notifications/settings", headers={"X-Coder-Bypass-Ratelimit": "true"})
                assert response.status_code == 200
    finally:
        server.stop()
