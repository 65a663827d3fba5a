"""What only the SQLite backend has: migrations and pragmas, the writer thread, inline reads, durability
across SIGKILL, and the in-process pub/sub.

Every Store method and Coder's rules are held against both backends in test_store_contract.py; this file
says nothing twice. Real SQLite files in temporary directories; the crash test kills a real child process.
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
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from server.records import (
    TEMPLATE_TEST_NOTIFICATION,
    InboxNotification,
    User,
)
from server.store.base import StoreError
from server.store.local_pubsub import LocalPubsub
from server.store.sqlite import SqliteStore, _migrate
from server.store.sqlite_rows import from_us, to_us

T0 = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def store(sqlite_store: SqliteStore) -> SqliteStore:
    """SQLite only here (the directory's contract fixture runs both backends)."""
    return sqlite_store


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


# -- lifecycle and migrations ----------------------------------------------------------------------
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


async def test_bounded_reads_run_inline_and_read_only(store: SqliteStore) -> None:
    # Index-bounded reads skip the reader-thread hand-off; they still cannot write.
    assert store.run_bounded_read(lambda c: threading.get_ident()) == threading.get_ident()
    with pytest.raises(StoreError):
        store.run_bounded_read(lambda c: c.execute("INSERT INTO site_configs VALUES ('k', 'v')"))
    await store.set_site_config("k", "v")
    assert await store.get_site_config("k") == "v"  # the inline connection sees committed writes


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


async def test_local_pubsub_keeps_delivering_past_a_broken_listener(store: SqliteStore) -> None:
    # Delivery to the owner only, and listeners subscribed twice, are in the contract suite.
    assert isinstance(store.pubsub, LocalPubsub)
    pubsub = LocalPubsub()
    alice = await new_user(store, "alice")
    first, second, broken = Recorder(), Recorder(), Broken()
    await pubsub.subscribe(alice.id, broken)
    await pubsub.subscribe(alice.id, first)
    await pubsub.subscribe(alice.id, second)
    assert pubsub.listener_count(alice.id) == 3
    n1 = notification(alice)
    await pubsub.publish(n1)  # the broken listener raised, and the others still heard it
    assert first.got == [n1] and second.got == [n1]
    await pubsub.publish(notification(User(uuid.uuid4(), "x", "x", "", (), False, "active", T0)))  # nobody
    assert pubsub.listener_count() == 3


async def test_local_pubsub_listener_may_unsubscribe_while_published_to() -> None:
    pubsub = LocalPubsub()
    user_id = uuid.uuid4()
    n = InboxNotification(uuid.uuid4(), user_id, TEMPLATE_TEST_NOTIFICATION, None, "t", "c", "", (), None, T0)

    class Once(Recorder):
        def on_notification(self, notification: InboxNotification) -> None:
            super().on_notification(notification)
            unsubscribe()

    once, steady = Once(), Recorder()
    unsubscribe = await pubsub.subscribe(user_id, once)
    await pubsub.subscribe(user_id, steady)
    await pubsub.publish(n)
    await pubsub.publish(n)
    assert len(once.got) == 1 and len(steady.got) == 2
    assert pubsub.listener_count(user_id) == 1
