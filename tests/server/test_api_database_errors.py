"""Database failures answer with Coder's 500 message for the failing step (spec section 16), and recover.

The failure is real: another connection renames a table under the running server, then renames it back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.live_server import LiveServer
from tests.server.helpers import client, inbox, seed_inbox, user_id


def _execute(server: LiveServer, statement: str) -> None:
    if server.db_path.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(server.db_path, autocommit=True) as conn:
            conn.execute(statement.encode())
    else:
        with sqlite3.connect(server.db_path, timeout=10) as conn:
            conn.execute(statement)


@contextmanager
def broken(server: LiveServer, table: str) -> Iterator[None]:
    """The table is missing while inside the block."""
    _execute(server, f"ALTER TABLE {table} RENAME TO broken_{table}")
    try:
        yield
    finally:
        _execute(server, f"ALTER TABLE broken_{table} RENAME TO {table}")


@pytest.mark.parametrize(
    ("table", "method", "path", "body", "message"),
    [
        ("inbox_notifications", "GET", "/notifications/inbox", None, "Failed to get filtered inbox notifications."),
        (
            "inbox_notifications",
            "PUT",
            "/notifications/inbox/mark-all-as-read",
            None,
            "Failed to mark all unread notifications as read.",
        ),
        (
            "inbox_notifications",
            "PUT",
            "/notifications/inbox/0b9c7c56-3f1e-4f43-9d2a-6f0d8a1e2c3b/read-status",  # fixed: ids stable under xdist
            {"is_read": True},
            "Failed to update inbox notification read status.",
        ),
        ("site_configs", "GET", "/notifications/settings", None, "Failed to fetch current notifications settings."),
        (
            "site_configs",
            "PUT",
            "/notifications/settings",
            {"notifier_paused": True},
            "Failed to fetch current notifications settings.",
        ),
        (
            "notification_templates",
            "GET",
            "/notifications/templates/system",
            None,
            'Failed to retrieve "system" notifications templates.',
        ),
        (
            "notification_templates",
            "GET",
            "/notifications/templates/custom",
            None,
            'Failed to retrieve "custom" notifications templates.',
        ),
        (
            "notification_preferences",
            "GET",
            "/users/me/notifications/preferences",
            None,
            "Failed to retrieve user notification preferences.",
        ),
        (
            "notification_preferences",
            "PUT",
            "/users/me/notifications/preferences",
            {"template_disabled_map": {"39b1e189-c857-4b0c-877a-511144c18516": True}},
            "Failed to update user notifications preferences.",
        ),
        ("notification_messages", "POST", "/notifications/test", None, "Failed to send test notification"),
        (
            "notification_messages",
            "POST",
            "/notifications/custom",
            {"content": {"title": "t", "message": "m"}},
            "Failed to send custom notification",
        ),
    ],
)
async def test_database_failure_gets_coders_500(
    live_server: LiveServer, table: str, method: str, path: str, body: object, message: str
) -> None:
    owner = await user_id(live_server, live_server.owner_token)
    await seed_inbox(live_server, owner, 3)
    async with client(live_server) as c:
        assert (await c.get("/users/me")).status_code == 200  # the session is verified (and cached)
        with broken(live_server, table):
            response = await c.request(method, path, json=body)
        assert response.status_code == 500, response.text
        assert response.json()["message"] == message
        # The database's own words (SQL, table names, driver text) go to the log, never to the client.
        assert response.json()["detail"] == "An internal server error occurred."
        assert table not in response.text
    # Nothing was lost, and the server works again once the table is back.
    page = await inbox(live_server)
    assert len(page["notifications"]) == 3 and page["unread_count"] == 3
