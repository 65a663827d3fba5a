"""The SQLite list fast path renders exactly what server.wire renders, for every field shape."""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from server.icons import FALLBACK_ICONS
from server.records import TEMPLATE_CUSTOM_NOTIFICATION, InboxFilter, InboxNotification
from server.store.base import Store
from server.store.sqlite import SqliteStore
from server.wire import encode_json, inbox_notification_json


def _rows(user: uuid.UUID) -> list[InboxNotification]:
    base = datetime(2026, 3, 18, 10, 20, 30, tzinfo=UTC)
    templates = [*FALLBACK_ICONS, TEMPLATE_CUSTOM_NOTIFICATION]  # every mapped template, and one unmapped
    rows = []
    for i, template_id in enumerate(templates):
        rows.append(
            InboxNotification(
                id=uuid.uuid4(),
                user_id=user,
                template_id=template_id,
                targets=[None, (), (uuid.uuid4(),), (uuid.uuid4(), uuid.uuid4())][i % 4],  # type: ignore[arg-type]
                title=f'Title <{i}> & "quotes" \\ é \u2028 \n\t end',
                content=f"**bold** {i}\n\n- item\u0001",
                icon="https://example.com/i.png" if i % 5 == 0 else "",
                actions=({"url": f"https://x/{i}?a=1&b=2", "label": "Open <it>"},) if i % 2 else (),
                read_at=None if i % 3 else base + timedelta(microseconds=120),
                # Fractions with trailing zeros, none at all, and full microseconds.
                created_at=base + timedelta(seconds=i, microseconds=[0, 500000, 123450, 1][i % 4]),
            )
        )
    return rows


async def _assert_same(store: SqliteStore, user: uuid.UUID) -> bytes:
    fast, unread = await store.inbox_page_json(user, InboxFilter(), limit=100)
    reference, ref_unread = await Store.inbox_page_json(store, user, InboxFilter(), limit=100)
    assert unread == ref_unread
    assert fast == reference
    # Go's HTML-safe escaping holds on every path.
    assert b"<" not in fast and b">" not in fast and b"&" not in fast and "\u2028".encode() not in fast
    return fast


async def test_sqlite_page_json_matches_the_reference_encoder(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "w.db"))
    await store.open()
    try:
        user = await store.create_user(username="u", email="u@x", name="", roles=["member"])
        rows = _rows(user.id)
        await store.insert_inbox_notifications(rows)
        fast = await _assert_same(store, user.id)
        newest = max(rows, key=lambda r: (r.created_at, r.id.bytes))
        assert json.loads(fast)[0] == json.loads(encode_json(inbox_notification_json(newest)))
        # read_at changes keep the stored JSON in step.
        await store.set_read_at(rows[1].id, datetime(2026, 5, 1, 12, 0, 0, 250000, tzinfo=UTC))
        await store.set_read_at(rows[0].id, None)
        await _assert_same(store, user.id)
        await store.mark_all_read(user.id, datetime(2026, 5, 2, tzinfo=UTC))
        await _assert_same(store, user.id)
    finally:
        await store.close()


async def test_rows_without_stored_json_are_rendered_by_sql(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "w.db"))
    await store.open()
    try:
        user = await store.create_user(username="u", email="u@x", name="", roles=["member"])
        await store.insert_inbox_notifications(_rows(user.id))

        def forget(conn: sqlite3.Connection) -> None:
            conn.execute("UPDATE inbox_notifications SET wire_head = NULL, wire_tail = NULL, read_at_wire = NULL")

        await store.run_write(forget)
        fast, _ = await store.inbox_page_json(user.id, InboxFilter(), limit=100)
        reference, _ = await Store.inbox_page_json(store, user.id, InboxFilter(), limit=100)
        # SQLite escapes a few control characters differently from orjson; the JSON is the same.
        assert json.loads(fast) == json.loads(reference)
        assert b"<" not in fast and b"&" not in fast
    finally:
        await store.close()
