"""What only the PostgreSQL backend has to show: several stores (replicas) over one database."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import psycopg
import pytest

from server.bundled import migrations
from server.records import TEMPLATE_CUSTOM_NOTIFICATION, InboxNotification, now_utc
from server.store.base import StoreError
from server.store.pg_pubsub import MAX_PAYLOAD_BYTES, channel_for, encode_event
from server.store.postgres import PostgresStore
from tests.pg import PgCluster, create_database, drop_database, free_port, pg_cluster, with_database  # noqa: F401
from tests.server.store.test_store_contract import Recorder, make_user, message, notification

pytestmark = pytest.mark.postgres


@pytest.fixture
async def replicas(pg_dsn: str) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    """Two stores over one database, as two inbox-server processes would have."""
    a, b = PostgresStore(pg_dsn), PostgresStore(pg_dsn)
    await asyncio.gather(a.open(), b.open())
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


async def wait_until(predicate: Callable[[], bool], what: str) -> None:
    """Poll state that changes in a background task (the listener), failing after 15 s."""
    for _ in range(1500):
        if predicate():
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"timed out waiting for {what}")


async def test_replicas_migrate_once_when_starting_together(pg_dsn: str) -> None:
    stores = [PostgresStore(pg_dsn) for _ in range(5)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        with psycopg.connect(pg_dsn) as conn:
            versions = conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
            assert versions[:2] == [(1, "0001_initial.sql"), (2, "0002_due_messages_index.sql")]
            assert versions == [(v, name) for v, name, _ in migrations("postgres")]  # each once
            assert conn.execute("SELECT count(*) FROM notification_templates").fetchone() == (37,)
            indexes = {
                r[0]
                for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", ("inbox_notifications",))
            }
            assert {
                "inbox_notifications_user_id_read_at_idx",
                "inbox_notifications_user_id_template_id_targets_idx",
                "inbox_notifications_user_id_created_at_id_idx",
            } <= indexes
            kind = conn.execute(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
                " WHERE attrelid = 'inbox_notifications'::regclass AND attname = 'targets'"
            ).fetchone()
            assert kind == ("uuid[]",)
    finally:
        for s in stores:
            await s.close()


async def test_notification_published_on_one_replica_reaches_the_other(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = replicas
    alice = await make_user(a)
    rec = Recorder()
    unsub = await a.pubsub.subscribe(alice.id, rec)
    row = notification(alice, at=now_utc(), targets=(uuid.uuid4(),))
    await b.insert_inbox_notifications([row])
    await b.pubsub.publish(row)
    await rec.wait_for(1)
    assert rec.got == [row]
    unsub()


async def test_leases_are_exclusive_across_replicas(replicas: tuple[PostgresStore, PostgresStore]) -> None:
    a, b = replicas
    alice = await make_user(a)
    msgs = [message(alice) for _ in range(600)]
    await a.enqueue_messages(msgs)
    now = now_utc() + timedelta(seconds=1)

    async def notifier(store: PostgresStore) -> list[uuid.UUID]:
        got: list[uuid.UUID] = []
        while batch := await store.lease_messages(limit=9, lease_seconds=60, now=now):
            got += [m.id for m in batch]
        return got

    results = await asyncio.gather(notifier(a), notifier(b), notifier(a), notifier(b))
    everything = [mid for r in results for mid in r]
    assert len(everything) == len(set(everything)) == 600
    assert all(results), "every notifier should have got a share"


def test_large_payloads_are_sent_by_id() -> None:
    user = uuid.uuid4()
    at = now_utc().replace(microsecond=123456)  # fixed length: Go trims the fraction's trailing zeros

    def sized(content: str) -> InboxNotification:
        return InboxNotification(
            id=uuid.uuid4(),
            user_id=user,
            template_id=TEMPLATE_CUSTOM_NOTIFICATION,
            targets=None,
            title="",
            content=content,
            icon="",
            actions=(),
            read_at=None,
            created_at=at,
        )

    base = len(encode_event(sized("")).encode())
    fits = encode_event(sized("x" * (MAX_PAYLOAD_BYTES - base)))
    assert len(fits.encode()) == MAX_PAYLOAD_BYTES
    assert json.loads(fits)["inbox_notification"]["content"].startswith("x")
    too_big = sized("x" * (MAX_PAYLOAD_BYTES - base + 1))
    assert json.loads(encode_event(too_big)) == {"kind": "new", "inbox_notification_id": str(too_big.id)}
    assert len(channel_for(user).encode()) == 61


async def test_listener_loss_calls_on_lost_and_resubscribes(
    pg_dsn: str, replicas: tuple[PostgresStore, PostgresStore]
) -> None:
    a, b = replicas
    alice = await make_user(a)
    rec = Recorder()
    unsub = await a.pubsub.subscribe(alice.id, rec)
    pid = a.pubsub.backend_pid
    assert pid is not None
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
    await wait_until(lambda: rec.lost == 1, "on_lost")
    await wait_until(lambda: a.pubsub.connected and a.pubsub.reconnects == 1, "reconnect")
    assert a.pubsub.backend_pid != pid
    # The channel is LISTENed again on the new connection: the same subscription hears new events.
    row = notification(alice, at=now_utc())
    await b.pubsub.publish(row)
    await rec.wait_for(1)
    assert rec.got == [row]
    unsub()


async def test_subscribe_waits_for_a_reconnecting_listener(
    pg_dsn: str, replicas: tuple[PostgresStore, PostgresStore]
) -> None:
    a, b = replicas
    alice = await make_user(a)
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (a.pubsub.backend_pid,))
    rec = Recorder()
    unsub = await a.pubsub.subscribe(alice.id, rec)  # returns once live on the new connection
    row = notification(alice, at=now_utc())
    await b.pubsub.publish(row)
    await rec.wait_for(1)
    assert rec.got == [row]
    unsub()


async def test_store_survives_a_database_restart(pg_cluster: PgCluster) -> None:  # noqa: F811
    dsn = create_database(pg_cluster.dsn)
    store = PostgresStore(dsn)
    await store.open()
    try:
        alice = await make_user(store)
        rec = Recorder()
        unsub = await store.pubsub.subscribe(alice.id, rec)
        await asyncio.to_thread(pg_cluster.restart)
        await wait_until(lambda: rec.lost == 1, "on_lost")
        # Pooled connections broken by the restart are replaced, not handed out.
        assert await store.get_user(alice.id) == alice
        await wait_until(lambda: store.pubsub.connected, "reconnect")
        row = notification(alice, at=now_utc())
        await store.insert_inbox_notifications([row])
        await store.pubsub.publish(row)
        await rec.wait_for(1)
        assert rec.got == [row]
        unsub()
    finally:
        await store.close()
        drop_database(pg_cluster.dsn, dsn)


async def test_reads_survive_broken_pool_connections(pg_dsn: str) -> None:
    store = PostgresStore(pg_dsn)
    await store.open()
    try:
        alice = await make_user(store)
        name = f"inbox-server {os.getpid()}"

        def terminate(running: str | None) -> int:
            with psycopg.connect(pg_dsn, autocommit=True) as admin:
                rows = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = %s AND datname = current_database()"
                    " AND (%s::text IS NULL OR query LIKE %s)",
                    (name, running, f"%{running}%"),
                ).fetchall()
            return len(rows)

        # Idle pooled connections killed: the pool's check replaces them before use.
        assert await asyncio.to_thread(terminate, None) >= 1
        assert await store.get_user(alice.id) == alice
        await store.set_site_config("k", "v")

        # A connection killed under a running SELECT: the read is retried on a fresh connection.
        async def kill_soon() -> int:
            await asyncio.sleep(0.3)
            return await asyncio.to_thread(terminate, "pg_sleep")

        row, killed = await asyncio.gather(store._fetchone("SELECT 7 FROM pg_sleep(1)"), kill_soon())
        assert killed == 1 and row == (7,)
    finally:
        await store.close()


async def test_unreachable_server_and_bad_url_are_reported_clearly(pg_dsn: str) -> None:
    closed_port = PostgresStore(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres")
    with pytest.raises(StoreError, match=r"cannot connect to PostgreSQL: .*127\.0\.0\.1"):
        await closed_port.open()
    missing_db = PostgresStore(with_database(pg_dsn, "no_such_database"))
    with pytest.raises(StoreError, match=r'cannot connect to PostgreSQL: .*"no_such_database" does not exist'):
        await missing_db.open()
    with pytest.raises(StoreError, match='invalid PostgreSQL URL: invalid URI query parameter: "bogus"'):
        PostgresStore("postgresql://postgres@127.0.0.1/postgres?bogus=1")
    bad_port = PostgresStore("postgresql://postgres@127.0.0.1:notaport/postgres")
    with pytest.raises(StoreError, match='invalid integer value "notaport"'):
        await bad_port.open()


async def test_an_older_database_is_upgraded_on_open(pg_dsn: str) -> None:
    store = PostgresStore(pg_dsn)
    await store.open()
    alice = await make_user(store)
    await store.close()
    # Roll the database back to what release 0001 left behind.
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("DROP INDEX notification_messages_due_idx")
        conn.execute("ALTER TABLE api_keys DROP COLUMN expires_at, DROP COLUMN last_used")
        conn.execute("DELETE FROM schema_migrations WHERE version > 1")
    store = PostgresStore(pg_dsn)
    await store.open()
    try:
        assert await store.get_user(alice.id) == alice
        with psycopg.connect(pg_dsn) as conn:
            assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone() == (
                migrations("postgres")[-1][0],
            )
            assert conn.execute(
                "SELECT count(*) FROM pg_indexes WHERE indexname = 'notification_messages_due_idx'"
            ).fetchone() == (1,)
    finally:
        await store.close()
