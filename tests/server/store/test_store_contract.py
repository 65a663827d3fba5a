"""The storage contract (server/store/base.py), held against every backend: SQLite and PostgreSQL.

Each test runs once per backend (see conftest.py). Nothing here knows which backend it talks to, except
through `backend.name` in an assertion message.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

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
from server.store.base import PAGE_SIZE, DuplicateUserError, Store, StoreError, UnknownTemplateError
from tests.server.store.conftest import Backend

WORKSPACE_CREATED = uuid.UUID("281fdf73-c6d6-4cbb-8ff5-888baf8a2fff")  # enabled_by_default = false
WORKSPACE_DELETED = uuid.UUID("f517da0b-cdc9-410f-ab89-a86107c420ed")
UNKNOWN_TEMPLATE = uuid.UUID("00000000-0000-4000-8000-00000000dead")


# -- helpers --------------------------------------------------------------------------------------------
async def make_user(store: Store, name: str = "alice") -> User:
    return await store.create_user(username=name, email=f"{name}@example.com", name=name.title(), roles=[])


def notification(
    user: User,
    *,
    at: datetime,
    template: uuid.UUID = TEMPLATE_CUSTOM_NOTIFICATION,
    targets: tuple[uuid.UUID, ...] | None = None,
    read_at: datetime | None = None,
    nid: uuid.UUID | None = None,
    title: str = "title",
    content: str = "content",
) -> InboxNotification:
    return InboxNotification(
        id=nid or uuid.uuid4(),
        user_id=user.id,
        template_id=template,
        targets=targets,
        title=title,
        content=content,
        icon="",
        actions=({"label": "Open", "url": "https://example.com/x"},),
        read_at=read_at,
        created_at=at,
    )


def message(
    user: User,
    *,
    template: uuid.UUID = TEMPLATE_CUSTOM_NOTIFICATION,
    method: NotificationMethod = NotificationMethod.INBOX,
    dedupe: str | None = None,
    at: datetime | None = None,
    targets: tuple[uuid.UUID, ...] | None = None,
) -> NotificationMessage:
    mid = uuid.uuid4()
    return NotificationMessage(
        id=mid,
        template_id=template,
        user_id=user.id,
        method=method,
        payload={"labels": {"custom_title": "hi"}, "n": 1},
        targets=targets,
        created_by="test",
        dedupe_hash=dedupe if dedupe is not None else mid.hex,
        created_at=at or now_utc(),
    )


def inbox_for(msg: NotificationMessage, at: datetime | None = None) -> InboxNotification:
    return InboxNotification(
        id=msg.id,
        user_id=msg.user_id,
        template_id=msg.template_id,
        targets=msg.targets,
        title="t",
        content="c",
        icon="",
        actions=(),
        read_at=None,
        created_at=at or now_utc(),
    )


def same_row(stored: InboxNotification | None, delivered: InboxNotification) -> bool:
    """The row as delivered, except that the store may have moved created_at forward (monotonic stamps)."""
    return (
        stored is not None
        and stored.created_at >= delivered.created_at
        and replace(stored, created_at=delivered.created_at) == delivered
    )


class Recorder:
    """An InboxListener that records what it hears and lets a test wait for it."""

    def __init__(self) -> None:
        self.got: list[InboxNotification] = []
        self.lost = 0
        self._event = asyncio.Event()

    def on_notification(self, notification: InboxNotification) -> None:
        self.got.append(notification)
        self._event.set()

    def on_lost(self) -> None:
        self.lost += 1
        self._event.set()

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(10):
            while len(self.got) < count:
                self._event.clear()
                await self._event.wait()


T0 = datetime.fromisoformat("2025-03-01T12:00:00.000001+00:00")


# -- users and tokens ---------------------------------------------------------------------------------
async def test_users(store: Store) -> None:
    alice = await make_user(store, "Alice")
    bob = await make_user(store, "bob")
    assert await store.get_user(alice.id) == alice
    assert alice.created_at.tzinfo is not None and alice.created_at.utcoffset() == timedelta(0)
    assert await store.get_user_by_username("alice") == alice  # case-insensitive
    assert await store.get_user_by_username("ALICE") == alice
    assert await store.get_user_by_username("carol") is None
    assert await store.get_user(uuid.uuid4()) is None
    with pytest.raises(DuplicateUserError):
        await make_user(store, "aLiCe")
    assert [u.id for u in await store.list_users()] == [alice.id, bob.id]
    system = await store.create_user(
        username="notifier", email="n@example.com", name="", roles=["owner", "member"], is_system=True
    )
    got = await store.get_user(system.id)
    assert got is not None and got.is_system and got.roles == ("owner", "member") and got.is_owner
    assert await store.delete_user(bob.id) is True
    assert await store.delete_user(bob.id) is False
    assert [u.id for u in await store.list_users()] == [alice.id, system.id]


async def test_api_tokens(store: Store) -> None:
    alice = await make_user(store)
    token = ApiToken(id="abcdef1234", user_id=alice.id, hashed_secret=b"\x00\xff" * 16, created_at=T0)
    await store.create_api_token(token)
    assert await store.get_api_token("abcdef1234") == token
    assert await store.get_api_token("nope") is None
    with pytest.raises(StoreError):
        await store.create_api_token(token)  # the id is taken
    with pytest.raises(StoreError):
        await store.create_api_token(replace(token, id="other", user_id=uuid.uuid4()))  # no such user
    assert await store.get_api_token("other") is None
    assert await store.delete_api_token("abcdef1234") is True
    assert await store.delete_api_token("abcdef1234") is False
    assert await store.get_api_token("abcdef1234") is None


# -- inbox notifications ------------------------------------------------------------------------------
async def test_inbox_round_trip_keeps_null_and_empty_targets(store: Store) -> None:
    alice = await make_user(store)
    t1, t2 = uuid.uuid4(), uuid.uuid4()
    rows = [
        notification(alice, at=T0, targets=None),
        notification(alice, at=T0 + timedelta(microseconds=1), targets=()),
        notification(alice, at=T0 + timedelta(microseconds=2), targets=(t1, t2), read_at=T0),
    ]
    await store.insert_inbox_notifications(rows)
    for row in rows:
        assert await store.get_inbox_notification(row.id) == row
    assert await store.get_inbox_notification(uuid.uuid4()) is None
    # Existing ids are left alone.
    changed = notification(alice, at=T0, nid=rows[0].id, title="other")
    await store.insert_inbox_notifications([changed])
    assert await store.get_inbox_notification(rows[0].id) == rows[0]
    await store.insert_inbox_notifications([])  # nothing to do
    assert await store.count_unread(alice.id) == 2


async def test_list_filters(store: Store) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    n_ab = notification(alice, at=T0 + timedelta(seconds=1), targets=(a, b))
    n_a = notification(alice, at=T0 + timedelta(seconds=2), targets=(a,), template=TEMPLATE_TEST_NOTIFICATION)
    n_none = notification(alice, at=T0 + timedelta(seconds=3), targets=None)
    n_empty = notification(alice, at=T0 + timedelta(seconds=4), targets=(), read_at=T0)
    n_bob = notification(bob, at=T0 + timedelta(seconds=5), targets=(a, b))
    await store.insert_inbox_notifications([n_ab, n_a, n_none, n_empty, n_bob])

    async def ids(flt: InboxFilter) -> list[uuid.UUID]:
        return [n.id for n in await store.list_inbox(alice.id, flt)]

    assert await ids(InboxFilter()) == [n_empty.id, n_none.id, n_a.id, n_ab.id]  # newest first, own only
    assert await ids(InboxFilter(targets=(a,))) == [n_a.id, n_ab.id]
    assert await ids(InboxFilter(targets=(a, b))) == [n_ab.id]  # contains ALL
    assert await ids(InboxFilter(targets=(b, a))) == [n_ab.id]
    assert await ids(InboxFilter(targets=(c,))) == []
    assert await ids(InboxFilter(templates=(TEMPLATE_TEST_NOTIFICATION,))) == [n_a.id]
    assert await ids(InboxFilter(templates=(TEMPLATE_TEST_NOTIFICATION, TEMPLATE_CUSTOM_NOTIFICATION))) == [
        n_empty.id,
        n_none.id,
        n_a.id,
        n_ab.id,
    ]  # ANY
    assert await ids(InboxFilter(read_status=ReadStatus.READ)) == [n_empty.id]
    assert await ids(InboxFilter(read_status=ReadStatus.UNREAD)) == [n_none.id, n_a.id, n_ab.id]
    assert await ids(InboxFilter(targets=(a,), templates=(TEMPLATE_CUSTOM_NOTIFICATION,))) == [n_ab.id]


async def test_cursor_is_strict_on_created_at_then_id(store: Store) -> None:
    alice = await make_user(store)
    # Three rows share one created_at: the id breaks the tie, and the cursor row is never repeated.
    same = [notification(alice, at=T0) for _ in range(3)]
    older = notification(alice, at=T0 - timedelta(microseconds=1))
    newer = notification(alice, at=T0 + timedelta(microseconds=1))
    await store.insert_inbox_notifications([*same, older, newer])
    tied = sorted(same, key=lambda n: n.id, reverse=True)
    expected = [newer.id, *(n.id for n in tied), older.id]
    assert [n.id for n in await store.list_inbox(alice.id, InboxFilter())] == expected
    seen: list[uuid.UUID] = []
    before: InboxNotification | None = None
    while True:
        page = await store.list_inbox(alice.id, InboxFilter(), before=before, limit=2)
        seen += [n.id for n in page]
        if len(page) < 2:
            break
        before = page[-1]
    assert seen == expected
    assert await store.list_inbox(alice.id, InboxFilter(), before=older) == []


async def test_page_size_default(store: Store) -> None:
    alice = await make_user(store)
    rows = [notification(alice, at=T0 + timedelta(milliseconds=i)) for i in range(PAGE_SIZE + 5)]
    await store.insert_inbox_notifications(rows)
    first = await store.list_inbox(alice.id, InboxFilter())
    assert len(first) == PAGE_SIZE
    rest = await store.list_inbox(alice.id, InboxFilter(), before=first[-1])
    assert [n.id for n in first + rest] == [n.id for n in reversed(rows)]


async def test_unread_count_ignores_filters_and_other_users(store: Store) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    rows = [
        notification(alice, at=T0 + timedelta(seconds=i), template=t)
        for i, t in enumerate([TEMPLATE_TEST_NOTIFICATION] * 5 + [TEMPLATE_CUSTOM_NOTIFICATION] * 5)
    ]
    rows.append(notification(alice, at=T0, read_at=T0))
    await store.insert_inbox_notifications([*rows, notification(bob, at=T0)])
    assert await store.count_unread(alice.id) == 10
    assert await store.count_unread(bob.id) == 1
    assert await store.count_unread(uuid.uuid4()) == 0


async def test_set_read_at(store: Store) -> None:
    alice = await make_user(store)
    row = notification(alice, at=T0)
    await store.insert_inbox_notifications([row])
    when = T0 + timedelta(hours=1, microseconds=7)
    updated = await store.set_read_at(row.id, when)
    assert updated is not None and updated.read_at == when and updated.id == row.id
    assert await store.count_unread(alice.id) == 0
    later = when + timedelta(seconds=1)  # marking read again overwrites the time
    updated = await store.set_read_at(row.id, later)
    assert updated is not None and updated.read_at == later
    cleared = await store.set_read_at(row.id, None)
    assert cleared is not None and cleared.read_at is None
    assert await store.get_inbox_notification(row.id) == cleared
    assert await store.count_unread(alice.id) == 1  # marking unread counts it again
    assert await store.set_read_at(uuid.uuid4(), when) is None


async def test_mark_all_read_touches_only_unread_rows_of_the_user(store: Store) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    earlier = T0 - timedelta(days=1)
    read = notification(alice, at=T0, read_at=earlier)
    unread = [notification(alice, at=T0 + timedelta(seconds=i)) for i in range(3)]
    bobs = notification(bob, at=T0)
    await store.insert_inbox_notifications([read, *unread, bobs])
    when = T0 + timedelta(hours=2)
    assert await store.mark_all_read(alice.id, when) == 3
    kept = await store.get_inbox_notification(read.id)
    assert kept is not None and kept.read_at == earlier
    for row in unread:
        got = await store.get_inbox_notification(row.id)
        assert got is not None and got.read_at == when
    assert await store.count_unread(bob.id) == 1
    assert await store.mark_all_read(alice.id, when) == 0


# -- templates ----------------------------------------------------------------------------------------
async def test_templates_seeded_in_byte_order(store: Store) -> None:
    system = await store.list_templates("system")
    custom = await store.list_templates("custom")
    everything = await store.list_templates()
    assert len(system) == 36 and len(custom) == 1 and len(everything) == 37
    names = [t.name for t in system]
    assert names == sorted(names, key=lambda s: s.encode())
    assert names.index("User Reached AI Budget Limit") < names.index("User account activated")
    assert [t.name for t in everything] == sorted((t.name for t in everything), key=lambda s: s.encode())
    assert custom[0].id == TEMPLATE_CUSTOM_NOTIFICATION and custom[0].kind == "custom"
    test = await store.get_template(TEMPLATE_TEST_NOTIFICATION)
    assert test is not None
    assert test.name == "Troubleshooting Notification"
    assert test.actions == (
        '[{"url": "{{base_url}}/deployment/notifications?tab=settings", "label": "View notification settings"}]'
    )
    assert test.method == "" and test.group == "Notification Events" and test.enabled_by_default
    assert custom[0].actions == "[]"
    created = await store.get_template(WORKSPACE_CREATED)
    assert created is not None and not created.enabled_by_default
    assert await store.get_template(UNKNOWN_TEMPLATE) is None


async def test_template_method_update_survives_reseeding(backend: Backend) -> None:
    store = await backend.open()
    assert await store.set_template_method(WORKSPACE_DELETED, "webhook") is True
    assert await store.set_template_method(WORKSPACE_DELETED, "webhook") is False
    assert await store.set_template_method(UNKNOWN_TEMPLATE, "smtp") is None
    with pytest.raises(StoreError):
        await store.set_template_method(WORKSPACE_DELETED, "pigeon")
    got = await store.get_template(WORKSPACE_DELETED)
    assert got is not None and got.method == "webhook"
    await store.close()
    reopened = await backend.open()  # open() seeds the templates again
    try:
        got = await reopened.get_template(WORKSPACE_DELETED)
        assert got is not None and got.method == "webhook"
        assert await reopened.set_template_method(WORKSPACE_DELETED, "") is True
        got = await reopened.get_template(WORKSPACE_DELETED)
        assert got is not None and got.method == ""
        assert await reopened.set_template_method(WORKSPACE_DELETED, "") is False  # already the default
    finally:
        await reopened.close()


async def test_reopening_updates_shipped_templates(backend: Backend) -> None:
    store = await backend.open()
    await store.close()
    # A database an older release seeded, with other texts.
    backend.execute(
        "UPDATE notification_templates SET name = 'Old', title_template = 'old' WHERE id = ?", WORKSPACE_DELETED
    )
    reopened = await backend.open()
    try:
        got = await reopened.get_template(WORKSPACE_DELETED)
        assert got is not None and (got.name, got.title_template) == (
            "Workspace Deleted",
            'Workspace "{{.Labels.name}}" deleted',
        )
    finally:
        await reopened.close()


# -- preferences --------------------------------------------------------------------------------------
async def test_preferences_merge(store: Store) -> None:
    alice = await make_user(store)
    assert await store.get_preferences(alice.id) == []
    await store.upsert_preferences(alice.id, {})  # no-op
    assert await store.get_preferences(alice.id) == []
    before = now_utc()
    await store.upsert_preferences(alice.id, {WORKSPACE_DELETED: True, WORKSPACE_CREATED: False})
    prefs = {p.template_id: p for p in await store.get_preferences(alice.id)}
    assert {k: p.disabled for k, p in prefs.items()} == {WORKSPACE_DELETED: True, WORKSPACE_CREATED: False}
    assert all(p.updated_at >= before - timedelta(seconds=1) for p in prefs.values())
    first_update = prefs[WORKSPACE_DELETED].updated_at
    await asyncio.sleep(0.002)
    await store.upsert_preferences(alice.id, {WORKSPACE_DELETED: False})  # merge, not replace
    prefs = {p.template_id: p for p in await store.get_preferences(alice.id)}
    assert {k: p.disabled for k, p in prefs.items()} == {WORKSPACE_DELETED: False, WORKSPACE_CREATED: False}
    assert prefs[WORKSPACE_DELETED].updated_at > first_update
    assert await store.get_preferences((await make_user(store, "bob")).id) == []


async def test_preferences_unknown_template_changes_nothing(store: Store) -> None:
    alice = await make_user(store)
    await store.upsert_preferences(alice.id, {WORKSPACE_DELETED: True})
    before = await store.get_preferences(alice.id)
    other_unknown = uuid.UUID("00000000-0000-4000-8000-00000000beef")
    with pytest.raises(UnknownTemplateError) as info:
        await store.upsert_preferences(
            alice.id,
            {WORKSPACE_DELETED: False, UNKNOWN_TEMPLATE: True, WORKSPACE_CREATED: False, other_unknown: True},
        )
    assert info.value.template_ids == (UNKNOWN_TEMPLATE, other_unknown)  # every one, in the order given
    assert str(UNKNOWN_TEMPLATE) in str(info.value)
    assert await store.get_preferences(alice.id) == before


# -- settings -----------------------------------------------------------------------------------------
async def test_site_config(store: Store) -> None:
    assert await store.get_site_config("notifications_settings") is None
    await store.set_site_config("notifications_settings", '{"notifier_paused":true}')
    assert await store.get_site_config("notifications_settings") == '{"notifier_paused":true}'
    await store.set_site_config("notifications_settings", "{}")
    assert await store.get_site_config("notifications_settings") == "{}"


# -- the delivery queue -------------------------------------------------------------------------------
async def test_enqueue_round_trip(store: Store) -> None:
    alice = await make_user(store)
    target = uuid.uuid4()
    msg = replace(message(alice, targets=(target,), at=T0), extra={"note": "x"})
    assert await store.enqueue_messages([msg]) == [msg.id]
    got = await store.get_message(msg.id)
    assert got is not None
    assert (got.template_id, got.user_id, got.method, got.payload, got.targets) == (
        msg.template_id,
        alice.id,
        NotificationMethod.INBOX,
        msg.payload,
        (target,),
    )
    assert (got.status, got.attempt_count, got.created_at, got.dedupe_hash) == (
        MessageStatus.PENDING,
        0,
        T0,
        msg.dedupe_hash,
    )
    assert got.extra == {"note": "x"}
    assert await store.get_message(uuid.uuid4()) is None
    assert await store.enqueue_messages([]) == []


async def test_enqueue_applies_preferences(store: Store) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    await store.upsert_preferences(alice.id, {WORKSPACE_DELETED: True, WORKSPACE_CREATED: False})
    wanted_default = message(bob, template=WORKSPACE_DELETED)  # enabled by default, no row
    off_by_default = message(bob, template=WORKSPACE_CREATED)  # disabled by default, no row
    disabled = message(alice, template=WORKSPACE_DELETED)  # explicit disabled row
    opted_in = message(alice, template=WORKSPACE_CREATED)  # explicit disabled:false opts in
    smtp_disabled = message(alice, template=WORKSPACE_DELETED, method=NotificationMethod.SMTP)  # all methods
    inserted = await store.enqueue_messages([wanted_default, off_by_default, disabled, opted_in, smtp_disabled])
    assert inserted == [wanted_default.id, opted_in.id]
    assert await store.count_messages() == 2


async def test_enqueue_dedupes(store: Store) -> None:
    alice = await make_user(store)
    first, twin = message(alice, dedupe="same"), message(alice, dedupe="same")
    other = message(alice, dedupe="other")
    assert await store.enqueue_messages([first, twin, other]) == [first.id, other.id]  # within one batch
    again = message(alice, dedupe="same")
    assert await store.enqueue_messages([again]) == []  # and across calls
    assert await store.count_messages() == 2


async def test_enqueue_unknown_template_inserts_nothing(store: Store) -> None:
    alice = await make_user(store)
    with pytest.raises(UnknownTemplateError) as info:
        await store.enqueue_messages([message(alice), message(alice, template=UNKNOWN_TEMPLATE)])
    assert info.value.template_ids == (UNKNOWN_TEMPLATE,)
    assert await store.count_messages() == 0
    stranger = replace(alice, id=uuid.uuid4(), username="stranger")
    with pytest.raises(StoreError):  # no such user
        await store.enqueue_messages([message(alice), message(stranger)])
    assert await store.count_messages() == 0


async def test_lease_oldest_first_and_exclusive_until_expiry(store: Store) -> None:
    alice = await make_user(store)
    msgs = [message(alice, at=T0 + timedelta(seconds=i)) for i in range(5)]
    await store.enqueue_messages(list(reversed(msgs)))
    now = T0 + timedelta(minutes=1)
    leased = await store.lease_messages(limit=3, lease_seconds=60, now=now)
    assert [m.id for m in leased] == [m.id for m in msgs[:3]]
    assert all(m.status is MessageStatus.LEASED for m in leased)
    stored = await store.get_message(msgs[0].id)
    assert stored is not None and stored.status is MessageStatus.LEASED and stored.attempt_count == 0
    rest = await store.lease_messages(limit=10, lease_seconds=60, now=now)
    assert [m.id for m in rest] == [m.id for m in msgs[3:]]
    assert await store.lease_messages(limit=10, lease_seconds=60, now=now + timedelta(seconds=59)) == []
    # A notifier that died leaves its lease to expire; then another one takes the messages.
    expired = await store.lease_messages(limit=10, lease_seconds=60, now=now + timedelta(seconds=61))
    assert [m.id for m in expired] == [m.id for m in msgs]
    assert await store.count_messages("leased") == 5
    assert await store.lease_messages(limit=0, lease_seconds=60, now=now) == []


async def test_concurrent_leasers_never_share_a_message(store: Store) -> None:
    alice = await make_user(store)
    msgs = [message(alice, at=T0 + timedelta(microseconds=i)) for i in range(200)]
    await store.enqueue_messages(msgs)
    now = T0 + timedelta(minutes=1)

    async def leaser() -> list[uuid.UUID]:
        got: list[uuid.UUID] = []
        while batch := await store.lease_messages(limit=7, lease_seconds=60, now=now):
            got += [m.id for m in batch]
        return got

    results = await asyncio.gather(*(leaser() for _ in range(4)))
    everything = [mid for r in results for mid in r]
    assert len(everything) == len(set(everything)) == 200


async def test_retry_due_times_and_permanent_failure(store: Store) -> None:
    alice = await make_user(store)
    temp, perm = message(alice, at=T0), message(alice, at=T0 + timedelta(seconds=1))
    await store.enqueue_messages([temp, perm])
    now = T0 + timedelta(minutes=1)
    assert len(await store.lease_messages(limit=10, lease_seconds=60, now=now)) == 2
    retry_at = now + timedelta(seconds=30)
    await store.mark_message_failed(temp.id, "connection refused", retry_after=retry_at)
    await store.mark_message_failed(perm.id, "bad address", retry_after=None)
    got = await store.get_message(temp.id)
    assert got is not None
    assert (got.status, got.attempt_count, got.next_retry_after, got.status_reason) == (
        MessageStatus.TEMPORARY_FAILURE,
        1,
        retry_at,
        "connection refused",
    )
    gone = await store.get_message(perm.id)
    assert gone is not None and gone.status is MessageStatus.PERMANENT_FAILURE and gone.attempt_count == 1
    assert await store.lease_messages(limit=10, lease_seconds=60, now=retry_at - timedelta(microseconds=1)) == []
    again = await store.lease_messages(limit=10, lease_seconds=60, now=retry_at)
    assert [m.id for m in again] == [temp.id]
    assert (again[0].attempt_count, again[0].status_reason) == (1, "connection refused")
    await store.mark_message_sent(temp.id)
    sent = await store.get_message(temp.id)
    assert sent is not None
    assert (sent.status, sent.attempt_count, sent.next_retry_after) == (MessageStatus.SENT, 2, None)
    # A permanent failure is never due again.
    assert await store.lease_messages(limit=10, lease_seconds=60, now=retry_at + timedelta(days=1)) == []
    assert await store.count_messages("permanent_failure") == 1


async def test_lease_inhibits_messages_of_templates_disabled_since_enqueue(store: Store) -> None:
    alice = await make_user(store)
    doomed = [message(alice, template=WORKSPACE_DELETED, at=T0 + timedelta(seconds=i)) for i in range(3)]
    kept = message(alice, at=T0 + timedelta(seconds=10))
    assert len(await store.enqueue_messages([*doomed, kept])) == 4
    await store.upsert_preferences(alice.id, {WORKSPACE_DELETED: True})
    leased = await store.lease_messages(limit=2, lease_seconds=60, now=T0 + timedelta(minutes=1))
    assert [m.id for m in leased] == [kept.id]  # the inhibited ones don't use up the limit
    assert await store.count_messages("inhibited") == 3
    got = await store.get_message(doomed[0].id)
    assert got is not None and got.status is MessageStatus.INHIBITED and got.status_reason


async def test_deliver_inbox_is_atomic_and_idempotent(store: Store) -> None:
    alice = await make_user(store)
    msg = message(alice, targets=(uuid.uuid4(),))
    await store.enqueue_messages([msg])
    await store.lease_messages(limit=1, lease_seconds=60, now=now_utc())
    row = inbox_for(msg)
    assert await store.deliver_inbox(msg.id, row) is True
    assert await store.get_inbox_notification(msg.id) == row
    sent = await store.get_message(msg.id)
    assert sent is not None and sent.status is MessageStatus.SENT and sent.attempt_count == 1
    assert await store.deliver_inbox(msg.id, inbox_for(msg)) is False  # a retry after a lost ack
    assert await store.get_inbox_notification(msg.id) == row
    assert await store.count_messages("sent") == 1
    assert await store.lease_messages(limit=10, lease_seconds=60, now=now_utc() + timedelta(hours=1)) == []
    # A failure inside the delivery (a row naming no template) leaves the message as it was.
    other = message(alice)
    await store.enqueue_messages([other])
    with pytest.raises(StoreError):
        await store.deliver_inbox(other.id, replace(inbox_for(other), template_id=UNKNOWN_TEMPLATE))
    pending = await store.get_message(other.id)
    assert pending is not None and pending.status is MessageStatus.PENDING
    assert await store.get_inbox_notification(other.id) is None


async def test_mark_message_sent_count_and_purge(store: Store) -> None:
    alice = await make_user(store)
    old = message(alice, method=NotificationMethod.WEBHOOK, at=T0)
    new = message(alice, method=NotificationMethod.SMTP, at=T0 + timedelta(days=8))
    await store.enqueue_messages([old, new])
    await store.mark_message_sent(old.id)
    got = await store.get_message(old.id)
    assert got is not None and got.status is MessageStatus.SENT and got.attempt_count == 1
    assert await store.count_messages() == 2
    assert await store.count_messages("sent") == 1
    assert await store.count_messages("pending") == 1
    assert await store.purge_messages(T0 + timedelta(days=1)) == 1
    assert await store.get_message(old.id) is None
    assert await store.count_messages() == 1


async def test_delete_user_cascades(store: Store) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    for user in (alice, bob):
        await store.create_api_token(
            ApiToken(id=f"tok-{user.username}", user_id=user.id, hashed_secret=b"x" * 32, created_at=T0)
        )
        await store.upsert_preferences(user.id, {WORKSPACE_DELETED: True})
        await store.enqueue_messages([message(user)])
        await store.insert_inbox_notifications([notification(user, at=T0)])
    assert await store.delete_user(alice.id) is True
    assert await store.get_user(alice.id) is None
    assert await store.get_api_token("tok-alice") is None
    assert await store.get_preferences(alice.id) == []
    assert await store.list_inbox(alice.id, InboxFilter()) == []
    assert await store.count_unread(alice.id) == 0
    assert await store.count_messages() == 1
    assert await store.get_api_token("tok-bob") is not None
    assert len(await store.get_preferences(bob.id)) == 1
    assert len(await store.list_inbox(bob.id, InboxFilter())) == 1
    assert await store.count_unread(bob.id) == 1


async def test_data_survives_reopen(backend: Backend) -> None:
    store = await backend.open()
    alice = await make_user(store)
    row = notification(alice, at=T0, targets=(uuid.uuid4(),))
    await store.insert_inbox_notifications([row])
    await store.set_site_config("k", "v")
    await store.close()
    reopened = await backend.open()  # open() is idempotent: migrations and seeding run again
    try:
        assert await reopened.get_user(alice.id) == alice
        assert await reopened.get_inbox_notification(row.id) == row
        assert await reopened.count_unread(alice.id) == 1
        assert await reopened.get_site_config("k") == "v"
        assert len(await reopened.list_templates()) == 37
    finally:
        await reopened.close()


# -- publish/subscribe --------------------------------------------------------------------------------
async def test_pubsub_delivers_to_the_owner_only(store: Store) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    first, second, bobs = Recorder(), Recorder(), Recorder()
    unsub_first = await store.pubsub.subscribe(alice.id, first)
    unsub_second = await store.pubsub.subscribe(alice.id, second)
    unsub_bob = await store.pubsub.subscribe(bob.id, bobs)
    row = notification(alice, at=now_utc(), targets=(uuid.uuid4(),))
    await store.insert_inbox_notifications([row])
    await store.pubsub.publish(row)
    await first.wait_for(1)
    await second.wait_for(1)
    assert first.got == [row] and second.got == [row]

    # After unsubscribing, nothing more arrives; bob's sentinel proves later events were delivered.
    unsub_first()
    unsub_first()  # safe twice
    row2 = notification(alice, at=now_utc())
    await store.pubsub.publish(row2)
    await second.wait_for(2)
    sentinel = notification(bob, at=now_utc())
    await store.pubsub.publish(sentinel)
    await bobs.wait_for(1)
    assert first.got == [row] and second.got == [row, row2] and bobs.got == [sentinel]
    unsub_second()
    unsub_bob()
    assert first.lost == second.lost == bobs.lost == 0


async def test_pubsub_same_listener_twice(store: Store) -> None:
    alice = await make_user(store)
    rec = Recorder()
    unsub_a = await store.pubsub.subscribe(alice.id, rec)
    unsub_b = await store.pubsub.subscribe(alice.id, rec)
    await store.pubsub.publish(notification(alice, at=now_utc()))
    await rec.wait_for(2)
    unsub_a()
    row = notification(alice, at=now_utc())
    await store.pubsub.publish(row)
    await rec.wait_for(3)
    assert rec.got[-1] == row
    unsub_b()


async def test_pubsub_large_notification_arrives_whole(store: Store) -> None:
    """Bigger than a NOTIFY payload may be: PostgreSQL sends the id and the subscriber reads the row."""
    alice = await make_user(store)
    rec = Recorder()
    unsub = await store.pubsub.subscribe(alice.id, rec)
    big = notification(alice, at=now_utc(), content="é" * 6000, targets=tuple(uuid.uuid4() for _ in range(50)))
    await store.insert_inbox_notifications([big])
    await store.pubsub.publish(big)
    small = notification(alice, at=now_utc())
    await store.pubsub.publish(small)
    await rec.wait_for(2)
    assert rec.got == [big, small]  # order kept
    unsub()


async def test_concurrent_deliveries_each_get_their_own_result(store: Store) -> None:
    """The notifier delivers a leased batch at once; a backend may group the calls, results stay per call."""
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    msgs = [message(alice, targets=(uuid.uuid4(),) if i % 2 else None) for i in range(60)]
    doomed = message(bob)
    await store.enqueue_messages([*msgs, doomed])
    await store.lease_messages(limit=100, lease_seconds=60, now=now_utc())
    rows = {m.id: inbox_for(m) for m in msgs}
    await store.delete_user(bob.id)  # its message is gone; delivering it now must fail on its own
    # A clean burst, with one message delivered twice in it.
    first = [store.deliver_inbox(m.id, rows[m.id]) for m in msgs[:30]]
    first.append(store.deliver_inbox(msgs[0].id, rows[msgs[0].id]))
    assert await asyncio.gather(*first) == [True] * 30 + [False]
    # A burst with one delivery that cannot succeed: only that call fails.
    second = [store.deliver_inbox(m.id, rows[m.id]) for m in msgs[30:]]
    second.append(store.deliver_inbox(doomed.id, inbox_for(doomed)))
    results = await asyncio.gather(*second, return_exceptions=True)
    assert results[:30] == [True] * 30
    assert isinstance(results[30], StoreError)
    for m in msgs:
        assert same_row(await store.get_inbox_notification(m.id), rows[m.id])
    assert await store.count_messages("sent") == 60
    assert await store.count_unread(alice.id) == 60
    assert await store.count_unread(bob.id) == 0


async def test_concurrent_publishes_arrive_in_order(store: Store) -> None:
    alice = await make_user(store)
    rec = Recorder()
    unsub = await store.pubsub.subscribe(alice.id, rec)
    rows = [notification(alice, at=now_utc(), title=f"n{i}") for i in range(100)]
    await asyncio.gather(*(store.pubsub.publish(r) for r in rows))
    await rec.wait_for(100)
    assert rec.got == rows
    unsub()


async def test_deliver_inbox_many(store: Store) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    msgs = [message(alice, targets=(uuid.uuid4(),) if i % 2 else ()) for i in range(40)]
    doomed = message(bob)
    await store.enqueue_messages([*msgs, doomed])
    await store.lease_messages(limit=100, lease_seconds=60, now=now_utc())
    rows = {m.id: inbox_for(m) for m in msgs}
    assert await store.deliver_inbox_many([]) == []
    assert await store.deliver_inbox(msgs[0].id, rows[msgs[0].id]) is True  # delivered earlier
    batch = [(m.id, rows[m.id]) for m in msgs[:20]] + [(msgs[1].id, rows[msgs[1].id])]
    delivered = await store.deliver_inbox_many(batch)
    assert [n is not None for n in delivered] == [False] + [True] * 19 + [False]
    for m in msgs[:20]:
        assert same_row(await store.get_inbox_notification(m.id), rows[m.id])
        got = await store.get_message(m.id)
        assert got is not None and got.status is MessageStatus.SENT
    # One delivery that cannot succeed (its user is gone) fails the whole call and changes nothing.
    await store.delete_user(bob.id)
    with pytest.raises(StoreError):
        await store.deliver_inbox_many([(m.id, rows[m.id]) for m in msgs[20:]] + [(doomed.id, inbox_for(doomed))])
    assert await store.count_unread(alice.id) == 20
    left = await store.get_message(msgs[20].id)
    assert left is not None and left.status is MessageStatus.LEASED
    again = await store.deliver_inbox_many([(m.id, rows[m.id]) for m in msgs[20:]])
    assert [n is not None for n in again] == [True] * 20
    assert await store.count_messages("sent") == 40
