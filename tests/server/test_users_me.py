"""GET /api/v2/users/me carries every field Coder's dashboard `User` type requires (issue 13, section 7)."""

from __future__ import annotations

from datetime import datetime

from tests.live_server import LiveServer
from tests.server.helpers import client

# codersdk.User as the dashboard's generated types require it (theme_preference and is_service_account are
# optional there).
REQUIRED = {
    "id",
    "username",
    "avatar_url",
    "name",
    "email",
    "created_at",
    "updated_at",
    "last_seen_at",
    "status",
    "login_type",
    "organization_ids",
    "roles",
    "has_ai_seat",
}


def _rfc3339(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text)


async def test_users_me_has_the_dashboard_user_fields(shared_server: LiveServer) -> None:
    async with client(shared_server, shared_server.member_token) as c:
        me = (await c.get("/users/me")).json()
        by_name = (await c.get(f"/users/{shared_server.member_username}")).json()
    assert set(me) >= REQUIRED, REQUIRED - set(me)
    assert me["has_ai_seat"] is False
    assert me["is_system"] is False
    # RFC 3339 in UTC like created_at; a user record is never edited here, so it equals created_at.
    assert _rfc3339(me["updated_at"]) == _rfc3339(me["created_at"])
    assert by_name == me
