"""The SQLite backend: every Store method, Coder's rules, the writer thread, migrations and durability.

Real SQLite files in temporary directories; the crash test kills a real child process with SIGKILL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import textwrap
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from server.records import (
    TEMPLATE_CUSTOM_NOTIFICATION,
    TEMPLATE_TEST_NOTIFICATION,
    ApiToken,
    InboxFilter,
    InboxNotification,
    MessageStatus,
    NotificationMessage,
    NotificationMethod,
    ReadStatus,
    User,
    now_utc,
)
from server.store.base import DuplicateUserError, StoreError, UnknownTemplateError
from server.store.local_pubsub import LocalPubsub
from server.store.sqlite import SqliteStore, _migrate
from server.store.sqlite_rows import from_us, to_us

WORKSPACE_CREATED = uuid.UUID("281fdf73-c6d6-4cbb-8ff5-888baf8a2fff")  # enabled_by_default = false
WORKSPACE_DELETED = uuid.UUID("f517da0b-cdc9-410f-ab89-a86107c420ed")  # enabled_by_default = true
T0 = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(str(tmp_path / "inbox.db"))
    await s.open()
    try:
        yield s
    finally:
        await s.close()


async def new_user(store: SqliteStore, username: str = "alice") -> User:
    return await store.create_user(username=username, email=f"{username}@example.com", name="", roles=[])


def notification(
    user: User,
    created_at: datetime = T0,
    *,
    template: uuid.UUID = TEMPLATE_TEST_NOTIFICATION,
    targets: tuple[uuid.UUID, ...] | None = None,
    read_at: datetime | None = None,
    nid: uuid.UUID | None = None,
) -> InboxNotification:
    return InboxNotification(
        id=nid or uuid.uuid4(),
        user_id=user.id,
        template_id=template,
        targets=targets,
        title="A test notification",
        content="This is a test notification.",
        icon="",
        actions=({"label": "View", "url": "https://coder.example.com/x"},),
        read_at=read_at,
        created_at=created_at,
    )


def message(
    user: User,
    template: uuid.UUID = TEMPLATE_TEST_NOTIFICATION,
    *,
    dedupe: str | None = None,
    created_at: datetime = T0,
    method: NotificationMethod = NotificationMethod.INBOX,
) -> NotificationMessage:
    return NotificationMessage(
        id=uuid.uuid4(),
        template_id=template,
        user_id=user.id,
        method=method,
        payload={"labels": {"a": "b"}, "user_id": str(user.id)},
        targets=(uuid.uuid4(),),
        created_by="test",
        dedupe_hash=dedupe or uuid.uuid4().hex,
        created_at=created_at,
        extra={"note": "x"},
    )


# -- lifecycle, migrations, templates ---------------------------------------------------------------
async def test_open_seeds_templates_in_byte_order(store: SqliteStore) -> None:
    system = await store.list_templates("system")
    custom = await store.list_templates("custom")
    assert len(system) == 36
    assert [t.id for t in custom] == [TEMPLATE_CUSTOM_NOTIFICATION]
    names = [t.name for t in system]
    assert names == sorted(names)  # Python compares code points: UTF-8 byte order
    assert names.index("User Reached AI Budget Limit") < names.index("User account activated")
    assert len(await store.list_templates()) == 37
    test = await store.get_template(TEMPLATE_TEST_NOTIFICATION)
    assert test is not None
    assert test.name == "Troubleshooting Notification"
    assert test.method == ""
    assert test.actions.startswith('[{"url": ')
    assert await store.get_template(uuid.uuid4()) is None


async def test_migrations_are_recorded_and_idempotent_on_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "inbox.db")
    s = SqliteStore(path)
    await s.open()
    user = await new_user(s)
    await s.close()
    s = SqliteStore(path)
    await s.open()
    try:
        assert await s.run_write(_migrate) == []  # nothing left to apply
        versions = await s.run_read(
            lambda c: c.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
        )
        assert versions[0] == (1, "0001_init.sql")
        assert len({v for v, _ in versions}) == len(versions)
        assert await s.get_user(user.id) == user
        assert len(await s.list_templates()) == 37  # seeding again did not duplicate anything
        pragmas = await s.run_write(
            lambda c: (
                c.execute("PRAGMA journal_mode").fetchone()[0],
                c.execute("PRAGMA synchronous").fetchone()[0],
                c.execute("PRAGMA foreign_keys").fetchone()[0],
                c.execute("PRAGMA busy_timeout").fetchone()[0],
            )
        )
        assert pragmas[0] == "wal"
        assert pragmas[1] == 1  # NORMAL
        assert pragmas[2] == 1
        assert pragmas[3] > 0
    finally:
        await s.close()


async def test_reseeding_updates_templates_but_keeps_owner_method(tmp_path: Path) -> None:
    path = str(tmp_path / "inbox.db")
    s = SqliteStore(path)
    await s.open()
    assert await s.set_template_method(WORKSPACE_DELETED, "webhook") is True
    # Pretend the database was seeded by an older release with other texts.
    await s.run_write(
        lambda c: c.execute(
            "UPDATE notification_templates SET name = 'Old', title_template = 'old' WHERE id IN (?, ?)",
            (WORKSPACE_DELETED.bytes, TEMPLATE_TEST_NOTIFICATION.bytes),
        )
    )
    await s.close()
    s = SqliteStore(path)
    await s.open()
    try:
        deleted = await s.get_template(WORKSPACE_DELETED)
        test = await s.get_template(TEMPLATE_TEST_NOTIFICATION)
        assert deleted is not None and test is not None
        assert deleted.name == "Workspace Deleted"
        assert deleted.method == "webhook"
        assert test.name == "Troubleshooting Notification"
        assert test.title_template == "A test notification"
    finally:
        await s.close()


async def test_set_template_method(store: SqliteStore) -> None:
    assert await store.set_template_method(WORKSPACE_DELETED, "smtp") is True
    assert await store.set_template_method(WORKSPACE_DELETED, "smtp") is False
    template = await store.get_template(WORKSPACE_DELETED)
    assert template is not None and template.method == "smtp"
    assert await store.set_template_method(WORKSPACE_DELETED, "") is True
    template = await store.get_template(WORKSPACE_DELETED)
    assert template is not None and template.method == ""
    assert await store.set_template_method(WORKSPACE_DELETED, "") is False
    assert await store.set_template_method(uuid.uuid4(), "smtp") is None
    with pytest.raises(StoreError):
        await store.set_template_method(WORKSPACE_DELETED, "carrier-pigeon")


async def test_write_is_visible_after_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "inbox.db")
    s = SqliteStore(path)
    await s.open()
    user = await new_user(s)
    n = notification(user)
    await s.insert_inbox_notifications([n])
    await s.set_site_config("notifications_settings", '{"notifier_paused":true}')
    await s.close()
    s = SqliteStore(path)
    await s.open()
    try:
        assert await s.get_inbox_notification(n.id) == n
        assert await s.count_unread(user.id) == 1
        assert await s.get_site_config("notifications_settings") == '{"notifier_paused":true}'
    finally:
        await s.close()


async def test_open_creates_missing_directories(tmp_path: Path) -> None:
    s = SqliteStore(str(tmp_path / "a" / "b" / "inbox.db"))
    await s.open()
    await s.close()
    assert (tmp_path / "a" / "b" / "inbox.db").exists()


async def test_memory_path_uses_a_private_temporary_file() -> None:
    s = SqliteStore(":memory:")
    await s.open()
    user = await new_user(s)
    assert await s.get_user(user.id) == user
    folder = s._tmpdir
    assert folder is not None
    await s.close()
    assert not await asyncio.to_thread(os.path.exists, folder)  # removed with the database
    assert not await asyncio.to_thread(os.path.exists, ":memory:")


async def test_closed_store_refuses_work(tmp_path: Path) -> None:
    s = SqliteStore(str(tmp_path / "inbox.db"))
    with pytest.raises(StoreError):
        await s.get_user(uuid.uuid4())
    await s.open()
    await s.close()
    await s.close()  # idempotent
    with pytest.raises(StoreError):
        await new_user(s)
    with pytest.raises(StoreError):
        await s.list_users()


async def test_close_commits_queued_writes(tmp_path: Path) -> None:
    path = str(tmp_path / "inbox.db")
    s = SqliteStore(path)
    await s.open()
    user = await new_user(s)
    rows = [notification(user, T0 + timedelta(seconds=i)) for i in range(200)]
    tasks = [asyncio.create_task(s.insert_inbox_notifications([n])) for n in rows]
    await asyncio.sleep(0)  # every task has queued its job
    await s.close()
    await asyncio.gather(*tasks)
    s = SqliteStore(path)
    await s.open()
    try:
        assert await s.count_unread(user.id) == 200
    finally:
        await s.close()


def test_timestamp_conversion_is_exact() -> None:
    moment = datetime(2031, 7, 9, 1, 2, 3, 456789, tzinfo=UTC)
    assert from_us(to_us(moment)) == moment
    assert from_us(to_us(moment)).tzinfo is UTC
    assert to_us(moment.replace(tzinfo=None)) == to_us(moment)  # naive means UTC
    other_zone = moment.astimezone(timezone(timedelta(hours=5)))
    assert to_us(other_zone) == to_us(moment)


# -- users and tokens -------------------------------------------------------------------------------
async def test_users(store: SqliteStore) -> None:
    alice = await store.create_user(
        username="Alice", email="alice@example.com", name="Alice A", roles=["owner"], is_system=False
    )
    bob = await store.create_user(username="bob", email="bob@example.com", name="", roles=[], is_system=True)
    assert alice.is_owner and not bob.is_owner
    assert alice.created_at.tzinfo is UTC
    assert await store.get_user(alice.id) == alice
    assert await store.get_user(uuid.uuid4()) is None
    assert await store.get_user_by_username("alice") == alice
    assert await store.get_user_by_username("ALICE") == alice
    assert await store.get_user_by_username("carol") is None
    assert await store.list_users() == [alice, bob]
    with pytest.raises(DuplicateUserError):
        await store.create_user(username="aLiCe", email="x@example.com", name="", roles=[])
    assert len(await store.list_users()) == 2


async def test_api_tokens(store: SqliteStore) -> None:
    user = await new_user(store)
    token = ApiToken(id="abcdef1234", user_id=user.id, hashed_secret=b"\x00\x01" * 16, created_at=now_utc())
    await store.create_api_token(token)
    assert await store.get_api_token("abcdef1234") == token
    assert await store.get_api_token("nope") is None
    with pytest.raises(StoreError):
        await store.create_api_token(token)  # same id
    with pytest.raises(StoreError):
        await store.create_api_token(
            ApiToken(id="other", user_id=uuid.uuid4(), hashed_secret=b"x", created_at=now_utc())
        )
    assert await store.delete_api_token("abcdef1234") is True
    assert await store.delete_api_token("abcdef1234") is False
    assert await store.get_api_token("abcdef1234") is None


async def test_delete_user_cascades(store: SqliteStore) -> None:
    alice, bob = await new_user(store, "alice"), await new_user(store, "bob")
    for user in (alice, bob):
        await store.create_api_token(
            ApiToken(id=f"tok-{user.username}", user_id=user.id, hashed_secret=b"h", created_at=now_utc())
        )
        await store.upsert_preferences(user.id, {WORKSPACE_DELETED: True})
        await store.enqueue_messages([message(user)])
        await store.insert_inbox_notifications([notification(user) for _ in range(3)])
    assert await store.delete_user(alice.id) is True
    assert await store.delete_user(alice.id) is False
    assert await store.get_user(alice.id) is None
    assert await store.get_api_token("tok-alice") is None
    assert await store.get_preferences(alice.id) == []
    assert await store.list_inbox(alice.id, InboxFilter()) == []
    assert await store.count_unread(alice.id) == 0
    assert await store.count_messages() == 1
    # Bob is untouched.
    assert await store.get_api_token("tok-bob") is not None
    assert len(await store.get_preferences(bob.id)) == 1
    assert await store.count_unread(bob.id) == 3


# -- inbox notifications ----------------------------------------------------------------------------
async def test_list_newest_first_with_id_tie_break_and_strict_cursor(store: SqliteStore) -> None:
    user = await new_user(store)
    other = await new_user(store, "other")
    same_time = [notification(user, T0) for _ in range(5)]
    older = notification(user, T0 - timedelta(microseconds=1))
    newer = notification(user, T0 + timedelta(microseconds=1))
    await store.insert_inbox_notifications([*same_time, older, newer, notification(other, T0)])
    expected = [newer, *sorted(same_time, key=lambda n: n.id.bytes, reverse=True), older]
    assert await store.list_inbox(user.id, InboxFilter()) == expected
    # The cursor is strict on (created_at, id): rows at the same instant with a smaller id still follow.
    cursor = expected[2]
    assert await store.list_inbox(user.id, InboxFilter(), before=cursor) == expected[3:]
    assert await store.list_inbox(user.id, InboxFilter(), before=cursor, limit=2) == expected[3:5]
    assert await store.list_inbox(user.id, InboxFilter(), before=older) == []


async def test_pagination_default_page_size(store: SqliteStore) -> None:
    user = await new_user(store)
    rows = [notification(user, T0 + timedelta(seconds=i % 7)) for i in range(60)]
    await store.insert_inbox_notifications(rows)
    seen: list[InboxNotification] = []
    before: InboxNotification | None = None
    pages = []
    while True:
        page = await store.list_inbox(user.id, InboxFilter(), before=before)
        pages.append(len(page))
        seen.extend(page)
        if len(page) < 25:
            break
        before = page[-1]
    assert pages == [25, 25, 10]
    assert len({n.id for n in seen}) == 60
    assert seen == sorted(rows, key=lambda n: (n.created_at, n.id.bytes), reverse=True)


async def test_list_filters(store: SqliteStore) -> None:
    user = await new_user(store)
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    n_ab = notification(user, T0 + timedelta(seconds=1), targets=(a, b))
    n_a = notification(user, T0 + timedelta(seconds=2), targets=(a,), template=WORKSPACE_DELETED)
    n_empty = notification(user, T0 + timedelta(seconds=3), targets=())
    n_null = notification(user, T0 + timedelta(seconds=4), targets=None, read_at=T0)
    n_c = notification(user, T0 + timedelta(seconds=5), targets=(c,), template=WORKSPACE_CREATED, read_at=T0)
    await store.insert_inbox_notifications([n_ab, n_a, n_empty, n_null, n_c])

    async def ids(flt: InboxFilter) -> list[uuid.UUID]:
        return [n.id for n in await store.list_inbox(user.id, flt)]

    assert await ids(InboxFilter(targets=(a,))) == [n_a.id, n_ab.id]
    assert await ids(InboxFilter(targets=(a, b))) == [n_ab.id]  # contains ALL
    assert await ids(InboxFilter(targets=(b, a))) == [n_ab.id]
    assert await ids(InboxFilter(targets=(uuid.uuid4(),))) == []
    assert await ids(InboxFilter(templates=(WORKSPACE_DELETED, WORKSPACE_CREATED))) == [n_c.id, n_a.id]
    assert await ids(InboxFilter(templates=(TEMPLATE_TEST_NOTIFICATION,))) == [
        n_null.id,
        n_empty.id,
        n_ab.id,
    ]
    assert await ids(InboxFilter(read_status=ReadStatus.READ)) == [n_c.id, n_null.id]
    assert await ids(InboxFilter(read_status=ReadStatus.UNREAD)) == [n_empty.id, n_a.id, n_ab.id]
    assert await ids(InboxFilter(targets=(a,), read_status=ReadStatus.UNREAD, templates=(WORKSPACE_DELETED,))) == [
        n_a.id
    ]
    # targets round-trip: NULL stays None, an empty array stays ().
    assert (await store.get_inbox_notification(n_null.id)) == n_null
    got_empty = await store.get_inbox_notification(n_empty.id)
    assert got_empty is not None and got_empty.targets == ()
    # The unread count ignores every filter.
    assert await store.count_unread(user.id) == 3


async def test_read_status_changes_and_unread_count(store: SqliteStore) -> None:
    alice, bob = await new_user(store, "alice"), await new_user(store, "bob")
    earlier = T0 - timedelta(days=1)
    mine = [notification(alice, T0 + timedelta(seconds=i)) for i in range(4)]
    already_read = notification(alice, T0, read_at=earlier)
    theirs = notification(bob, T0)
    await store.insert_inbox_notifications([*mine, already_read, theirs])
    assert await store.count_unread(alice.id) == 4
    assert await store.count_unread(bob.id) == 1
    assert await store.count_unread(uuid.uuid4()) == 0

    stamp = T0 + timedelta(hours=1)
    updated = await store.set_read_at(mine[0].id, stamp)
    assert updated is not None and updated.read_at == stamp and updated.id == mine[0].id
    assert await store.count_unread(alice.id) == 3
    again = await store.set_read_at(mine[0].id, stamp + timedelta(hours=1))  # overwritten when re-read
    assert again is not None and again.read_at == stamp + timedelta(hours=1)
    assert await store.count_unread(alice.id) == 3
    cleared = await store.set_read_at(mine[0].id, None)
    assert cleared is not None and cleared.read_at is None
    assert await store.count_unread(alice.id) == 4
    assert await store.set_read_at(uuid.uuid4(), stamp) is None

    assert await store.mark_all_read(alice.id, stamp) == 4
    assert await store.count_unread(alice.id) == 0
    assert await store.mark_all_read(alice.id, stamp) == 0
    kept = await store.get_inbox_notification(already_read.id)
    assert kept is not None and kept.read_at == earlier  # already-read rows keep their read_at
    assert await store.count_unread(bob.id) == 1  # other users untouched
    other = await store.get_inbox_notification(theirs.id)
    assert other is not None and other.read_at is None


async def test_insert_leaves_existing_ids_alone(store: SqliteStore) -> None:
    user = await new_user(store)
    original = notification(user)
    await store.insert_inbox_notifications([original])
    changed = notification(user, T0 + timedelta(days=1), nid=original.id, read_at=T0)
    await store.insert_inbox_notifications([changed, notification(user)])
    assert await store.get_inbox_notification(original.id) == original
    assert await store.count_unread(user.id) == 2
    await store.insert_inbox_notifications([])
    assert await store.get_inbox_notification(uuid.uuid4()) is None


# -- preferences and settings -----------------------------------------------------------------------
async def test_preferences_merge(store: SqliteStore) -> None:
    user = await new_user(store)
    assert await store.get_preferences(user.id) == []
    await store.upsert_preferences(user.id, {WORKSPACE_DELETED: True, WORKSPACE_CREATED: False})
    prefs = {p.template_id: p for p in await store.get_preferences(user.id)}
    assert {k: p.disabled for k, p in prefs.items()} == {WORKSPACE_DELETED: True, WORKSPACE_CREATED: False}
    assert all(p.updated_at.tzinfo is UTC for p in prefs.values())
    await store.upsert_preferences(user.id, {WORKSPACE_DELETED: False})  # keys not named stay as they were
    prefs = {p.template_id: p for p in await store.get_preferences(user.id)}
    assert {k: p.disabled for k, p in prefs.items()} == {WORKSPACE_DELETED: False, WORKSPACE_CREATED: False}
    await store.upsert_preferences(user.id, {})  # no-op
    assert len(await store.get_preferences(user.id)) == 2


async def test_preferences_with_unknown_template_change_nothing(store: SqliteStore) -> None:
    user = await new_user(store)
    await store.upsert_preferences(user.id, {WORKSPACE_DELETED: True})
    before = await store.get_preferences(user.id)
    unknown1, unknown2 = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(UnknownTemplateError) as caught:
        await store.upsert_preferences(
            user.id,
            {WORKSPACE_DELETED: False, unknown1: True, TEMPLATE_TEST_NOTIFICATION: True, unknown2: True},
        )
    assert caught.value.template_ids == (unknown1, unknown2)
    assert str(unknown1) in str(caught.value)
    assert await store.get_preferences(user.id) == before


async def test_site_config(store: SqliteStore) -> None:
    assert await store.get_site_config("notifications_settings") is None
    await store.set_site_config("notifications_settings", "{}")
    assert await store.get_site_config("notifications_settings") == "{}"
    await store.set_site_config("notifications_settings", '{"notifier_paused":false}')
    assert await store.get_site_config("notifications_settings") == '{"notifier_paused":false}'


# -- notification messages --------------------------------------------------------------------------
async def test_enqueue_applies_preferences_and_dedupe(store: SqliteStore) -> None:
    user = await new_user(store)
    plain = message(user)
    off_by_default = message(user, WORKSPACE_CREATED)
    inserted = await store.enqueue_messages([plain, off_by_default])
    assert inserted == [plain.id]  # Workspace Created is off unless the user opted in

    await store.upsert_preferences(user.id, {WORKSPACE_CREATED: False, WORKSPACE_DELETED: True})
    opted_in = message(user, WORKSPACE_CREATED)
    disabled = message(user, WORKSPACE_DELETED)
    assert await store.enqueue_messages([opted_in, disabled]) == [opted_in.id]

    duplicate = message(user, dedupe=plain.dedupe_hash)
    twin_a, twin_b = message(user, dedupe="same"), message(user, dedupe="same")
    assert await store.enqueue_messages([duplicate, twin_a, twin_b]) == [twin_a.id]
    assert await store.count_messages() == 3
    assert await store.enqueue_messages([]) == []

    stored = await store.get_message(plain.id)
    assert stored is not None
    assert stored.status is MessageStatus.PENDING
    assert stored.payload == plain.payload
    assert stored.targets == plain.targets
    assert stored.extra == {"note": "x"}
    assert stored.created_at == T0
    assert stored.attempt_count == 0
    assert await store.get_message(uuid.uuid4()) is None


async def test_enqueue_unknown_template_inserts_nothing(store: SqliteStore) -> None:
    user = await new_user(store)
    stray = uuid.uuid4()
    with pytest.raises(UnknownTemplateError) as caught:
        await store.enqueue_messages([message(user), message(user, stray)])
    assert caught.value.template_ids == (stray,)
    assert await store.count_messages() == 0
    with pytest.raises(StoreError):  # unknown user: the foreign key refuses it
        await store.enqueue_messages([message(User(uuid.uuid4(), "x", "x", "", (), False, "active", T0))])
    assert await store.count_messages() == 0


async def test_lease_due_messages(store: SqliteStore) -> None:
    user = await new_user(store)
    msgs = [message(user, created_at=T0 + timedelta(seconds=i)) for i in range(5)]
    await store.enqueue_messages(msgs)
    now = T0 + timedelta(minutes=1)
    first = await store.lease_messages(limit=3, lease_seconds=60, now=now)
    assert [m.id for m in first] == [m.id for m in msgs[:3]]  # oldest first
    assert all(m.status is MessageStatus.LEASED for m in first)
    assert all(m.attempt_count == 0 for m in first)  # attempts are counted when they end
    second = await store.lease_messages(limit=10, lease_seconds=60, now=now)
    assert [m.id for m in second] == [m.id for m in msgs[3:]]
    assert await store.lease_messages(limit=10, lease_seconds=60, now=now) == []  # all leased
    assert await store.count_messages(MessageStatus.LEASED) == 5
    # A lease that ran out makes the message due again.
    expired = await store.lease_messages(limit=10, lease_seconds=60, now=now + timedelta(seconds=61))
    assert [m.id for m in expired] == [m.id for m in msgs]
    assert await store.lease_messages(limit=0, lease_seconds=60, now=now) == []


async def test_failed_messages_are_retried_after_their_time(store: SqliteStore) -> None:
    user = await new_user(store)
    retry, fatal = message(user), message(user, created_at=T0 + timedelta(seconds=1))
    await store.enqueue_messages([retry, fatal])
    now = T0 + timedelta(minutes=1)
    assert len(await store.lease_messages(limit=10, lease_seconds=60, now=now)) == 2
    await store.mark_message_failed(retry.id, "connection refused", retry_after=now + timedelta(seconds=30))
    await store.mark_message_failed(fatal.id, "bad address", retry_after=None)

    got = await store.get_message(retry.id)
    assert got is not None
    assert got.status is MessageStatus.TEMPORARY_FAILURE
    assert got.status_reason == "connection refused"
    assert got.next_retry_after == now + timedelta(seconds=30)
    assert got.attempt_count == 1
    got = await store.get_message(fatal.id)
    assert got is not None and got.status is MessageStatus.PERMANENT_FAILURE and got.attempt_count == 1

    assert await store.lease_messages(limit=10, lease_seconds=60, now=now + timedelta(seconds=29)) == []
    due = await store.lease_messages(limit=10, lease_seconds=60, now=now + timedelta(seconds=30))
    assert [m.id for m in due] == [retry.id]
    assert due[0].status_reason == "connection refused"
    await store.mark_message_sent(retry.id)
    got = await store.get_message(retry.id)
    assert got is not None
    assert (got.status, got.attempt_count, got.next_retry_after) == (MessageStatus.SENT, 2, None)
    assert await store.count_messages(MessageStatus.SENT) == 1
    assert await store.count_messages(MessageStatus.PERMANENT_FAILURE) == 1


async def test_lease_inhibits_messages_disabled_since_enqueue(store: SqliteStore) -> None:
    user = await new_user(store)
    await store.upsert_preferences(user.id, {WORKSPACE_CREATED: False})  # opted in
    created = message(user, WORKSPACE_CREATED, created_at=T0)
    deleted = message(user, WORKSPACE_DELETED, created_at=T0 + timedelta(seconds=1))
    keep = [message(user, created_at=T0 + timedelta(seconds=2 + i)) for i in range(3)]
    assert len(await store.enqueue_messages([created, deleted, *keep])) == 5
    await store.upsert_preferences(user.id, {WORKSPACE_DELETED: True})
    # Deleting the opt-in row puts Workspace Created back to its default (off).
    await store.run_write(
        lambda c: c.execute(
            "DELETE FROM notification_preferences WHERE user_id = ? AND template_id = ?",
            (user.id.bytes, WORKSPACE_CREATED.bytes),
        )
    )
    leased = await store.lease_messages(limit=3, lease_seconds=60, now=T0 + timedelta(minutes=1))
    assert [m.id for m in leased] == [m.id for m in keep]  # inhibited ones don't use up the limit
    for inhibited in (created, deleted):
        got = await store.get_message(inhibited.id)
        assert got is not None and got.status is MessageStatus.INHIBITED
        assert got.status_reason
    assert await store.count_messages(MessageStatus.INHIBITED) == 2


async def test_deliver_inbox_is_atomic_and_idempotent(store: SqliteStore) -> None:
    user = await new_user(store)
    msg = message(user)
    await store.enqueue_messages([msg])
    await store.lease_messages(limit=1, lease_seconds=60, now=T0)
    row = notification(user, nid=msg.id)
    assert await store.deliver_inbox(msg.id, row) is True
    assert await store.get_inbox_notification(msg.id) == row
    got = await store.get_message(msg.id)
    assert got is not None and got.status is MessageStatus.SENT and got.attempt_count == 1
    assert await store.deliver_inbox(msg.id, row) is False
    assert len(await store.list_inbox(user.id, InboxFilter())) == 1
    assert await store.count_unread(user.id) == 1
    # A failure inside the transaction (unknown template) leaves the message as it was.
    other = message(user)
    await store.enqueue_messages([other])
    with pytest.raises(StoreError):
        await store.deliver_inbox(other.id, notification(user, nid=other.id, template=uuid.uuid4()))
    got = await store.get_message(other.id)
    assert got is not None and got.status is MessageStatus.PENDING


async def test_purge_messages(store: SqliteStore) -> None:
    user = await new_user(store)
    old = [message(user, created_at=T0 - timedelta(days=8)) for _ in range(3)]
    new = [message(user, created_at=T0) for _ in range(2)]
    await store.enqueue_messages([*old, *new])
    assert await store.purge_messages(T0 - timedelta(days=7)) == 3
    assert await store.count_messages() == 2
    assert await store.count_messages(MessageStatus.PENDING) == 2


# -- the writer thread and the readers --------------------------------------------------------------
async def test_no_sqlite_on_the_event_loop_thread(store: SqliteStore) -> None:
    loop_thread = threading.get_ident()
    read_thread = await store.run_read(lambda c: threading.get_ident())
    write_thread = await store.run_write(lambda c: threading.get_ident())
    assert loop_thread not in (read_thread, write_thread)
    assert read_thread != write_thread
    with pytest.raises(StoreError):  # reader connections are read-only
        await store.run_read(lambda c: c.execute("INSERT INTO site_configs VALUES ('k', 'v')"))


async def test_many_concurrent_writers_lose_nothing(store: SqliteStore) -> None:
    user = await new_user(store)

    async def writer(task: int) -> list[uuid.UUID]:
        ids = []
        for i in range(20):
            n = notification(user, T0 + timedelta(microseconds=task * 100 + i))
            await store.insert_inbox_notifications([n])
            ids.append(n.id)
        return ids

    written = [i for ids in await asyncio.gather(*(writer(t) for t in range(50))) for i in ids]
    assert len(written) == 1000
    assert await store.count_unread(user.id) == 1000
    stored = await store.run_read(
        lambda c: {uuid.UUID(bytes=r[0]) for r in c.execute("SELECT id FROM inbox_notifications")}
    )
    assert stored == set(written)


async def test_queued_writes_share_one_commit(store: SqliteStore) -> None:
    user = await new_user(store)
    gate, entered = threading.Event(), threading.Event()

    def blocker(conn: sqlite3.Connection) -> str:
        entered.set()
        gate.wait()
        return "released"

    blocked = asyncio.create_task(store.run_write(blocker))
    await asyncio.to_thread(entered.wait)  # the writer is now busy inside the blocker's transaction
    commits = store.commit_count
    rows = [notification(user, T0 + timedelta(seconds=i)) for i in range(100)]
    tasks = [asyncio.create_task(store.insert_inbox_notifications([n])) for n in rows]
    await asyncio.sleep(0)  # every task runs up to its await: all 100 jobs are queued
    gate.set()
    assert await blocked == "released"
    await asyncio.gather(*tasks)
    assert store.commit_count - commits == 2  # the blocker's transaction, then one for all 100 writes
    assert await store.count_unread(user.id) == 100


async def test_failing_job_rolls_back_only_itself(store: SqliteStore) -> None:
    gate, entered = threading.Event(), threading.Event()

    def blocker(conn: sqlite3.Connection) -> None:
        entered.set()
        gate.wait()

    def put(key: str, fail: bool = False) -> Callable[[sqlite3.Connection], str]:
        def job(conn: sqlite3.Connection) -> str:
            conn.execute("INSERT INTO site_configs (key, value) VALUES (?, 'v')", (key,))
            if fail:
                raise ValueError(f"job {key} failed")
            return key

        return job

    blocked = asyncio.create_task(store.run_write(blocker))
    await asyncio.to_thread(entered.wait)
    commits = store.commit_count
    good1 = asyncio.create_task(store.run_write(put("good1")))
    bad = asyncio.create_task(store.run_write(put("bad", fail=True)))
    good2 = asyncio.create_task(store.run_write(put("good2")))
    await asyncio.sleep(0)
    gate.set()
    await blocked
    assert await good1 == "good1"
    assert await good2 == "good2"
    with pytest.raises(ValueError, match="job bad failed"):
        await bad
    assert store.commit_count - commits == 2
    assert await store.get_site_config("good1") == "v"
    assert await store.get_site_config("good2") == "v"
    assert await store.get_site_config("bad") is None


async def test_lone_failing_job_leaves_nothing_behind(store: SqliteStore) -> None:
    def job(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO site_configs (key, value) VALUES ('half', 'done')")
        raise ValueError("midway")

    with pytest.raises(ValueError, match="midway"):
        await store.run_write(job)
    assert await store.get_site_config("half") is None
    await store.set_site_config("next", "ok")  # the writer carries on
    assert await store.get_site_config("next") == "ok"


async def test_cancelled_caller_does_not_break_the_writer(store: SqliteStore) -> None:
    gate, entered = threading.Event(), threading.Event()

    def blocker(conn: sqlite3.Connection) -> None:
        entered.set()
        gate.wait()

    blocked = asyncio.create_task(store.run_write(blocker))
    await asyncio.to_thread(entered.wait)
    abandoned = asyncio.create_task(store.set_site_config("abandoned", "1"))
    await asyncio.sleep(0)
    abandoned.cancel()
    gate.set()
    await blocked
    with pytest.raises(asyncio.CancelledError):
        await abandoned
    # The job had been handed to the writer, so it still ran; the writer keeps serving.
    await store.set_site_config("after", "2")
    assert await store.get_site_config("after") == "2"
    assert await store.get_site_config("abandoned") == "1"


CRASH_CHILD = textwrap.dedent(
    """
    import asyncio, sys, uuid
    from datetime import UTC, datetime
    from server.records import TEMPLATE_TEST_NOTIFICATION, InboxNotification
    from server.store.sqlite import SqliteStore

    async def main() -> None:
        store = SqliteStore(sys.argv[1])
        await store.open()
        user = await store.create_user(username="victim", email="v@example.com", name="", roles=[])
        print("user", user.id, flush=True)

        async def writer() -> None:
            while True:
                n = InboxNotification(
                    id=uuid.uuid4(), user_id=user.id, template_id=TEMPLATE_TEST_NOTIFICATION, targets=None,
                    title="t", content="c", icon="", actions=(), read_at=None, created_at=datetime.now(UTC),
                )
                await store.insert_inbox_notifications([n])
                print(n.id, flush=True)  # only after the awaited write returned

        await asyncio.gather(*(writer() for _ in range(4)))

    asyncio.run(main())
    """
)


async def test_awaited_writes_survive_sigkill(tmp_path: Path) -> None:
    db = tmp_path / "inbox.db"
    script = tmp_path / "child.py"
    script.write_text(CRASH_CHILD)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        str(db),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    acknowledged: list[uuid.UUID] = []
    user_id: uuid.UUID | None = None
    try:
        while len(acknowledged) < 300:
            line = (await proc.stdout.readline()).decode().strip()
            if not line:
                raise AssertionError(f"child exited early: {(await proc.stderr.read()).decode()}")
            if line.startswith("user "):
                user_id = uuid.UUID(line.split()[1])
            else:
                acknowledged.append(uuid.UUID(line))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert user_id is not None

    store = SqliteStore(str(db))
    await store.open()
    try:
        stored = await store.run_read(
            lambda c: {uuid.UUID(bytes=r[0]) for r in c.execute("SELECT id FROM inbox_notifications")}
        )
        assert set(acknowledged) <= stored
        assert await store.count_unread(user_id) == len(stored)  # the trigger-kept count agrees
    finally:
        await store.close()


# -- in-process pub/sub -----------------------------------------------------------------------------
class Recorder:
    def __init__(self) -> None:
        self.got: list[InboxNotification] = []
        self.lost = 0

    def on_notification(self, notification: InboxNotification) -> None:
        self.got.append(notification)

    def on_lost(self) -> None:
        self.lost += 1


class Broken(Recorder):
    def on_notification(self, notification: InboxNotification) -> None:
        raise RuntimeError("listener bug")


async def test_local_pubsub(store: SqliteStore) -> None:
    assert isinstance(store.pubsub, LocalPubsub)
    pubsub = LocalPubsub()
    alice, bob = await new_user(store, "alice"), await new_user(store, "bob")
    first, second, other, broken = Recorder(), Recorder(), Recorder(), Broken()
    await pubsub.subscribe(alice.id, broken)
    unsubscribe_first = await pubsub.subscribe(alice.id, first)
    await pubsub.subscribe(alice.id, second)
    await pubsub.subscribe(bob.id, other)
    assert pubsub.listener_count(alice.id) == 3
    n1 = notification(alice)
    await pubsub.publish(n1)  # the broken listener does not stop the others
    assert first.got == [n1] and second.got == [n1] and other.got == []
    unsubscribe_first()
    unsubscribe_first()  # safe twice
    n2 = notification(alice)
    await pubsub.publish(n2)
    assert first.got == [n1] and second.got == [n1, n2]
    await pubsub.publish(notification(User(uuid.uuid4(), "x", "x", "", (), False, "active", T0)))
    assert pubsub.listener_count() == 3


async def test_local_pubsub_same_listener_twice_and_self_unsubscribe() -> None:
    pubsub = LocalPubsub()
    user_id = uuid.uuid4()
    rec = Recorder()
    unsub_a = await pubsub.subscribe(user_id, rec)
    unsub_b = await pubsub.subscribe(user_id, rec)
    n = InboxNotification(uuid.uuid4(), user_id, TEMPLATE_TEST_NOTIFICATION, None, "t", "c", "", (), None, T0)
    await pubsub.publish(n)
    assert rec.got == [n, n]
    unsub_a()
    await pubsub.publish(n)
    assert len(rec.got) == 3

    class Once(Recorder):
        def on_notification(self, notification: InboxNotification) -> None:
            super().on_notification(notification)
            unsub_b()  # unsubscribing from inside publish is allowed

    once = Once()
    unsub_b = await pubsub.subscribe(user_id, once)  # rebinding: Once removes itself
    await pubsub.publish(n)
    await pubsub.publish(n)
    assert len(once.got) == 1
    assert pubsub.listener_count(user_id) == 1


async def test_bounded_reads_run_inline_and_read_only(store: SqliteStore) -> None:
    # Index-bounded reads skip the reader-thread hand-off; they still cannot write.
    assert store.run_bounded_read(lambda c: threading.get_ident()) == threading.get_ident()
    with pytest.raises(StoreError):
        store.run_bounded_read(lambda c: c.execute("INSERT INTO site_configs VALUES ('k', 'v')"))
    await store.set_site_config("k", "v")
    assert await store.get_site_config("k") == "v"  # the inline connection sees committed writes
