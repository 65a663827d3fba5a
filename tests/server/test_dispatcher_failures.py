"""The notifier's failure paths (server/notify/dispatcher.py): a message that cannot be rendered, whose
template is gone, whose method is not configured, or whose inbox write fails.

End to end on a real server where a real cause exists (a payload the template cannot render, a template an
owner routed to a method the server lacks). Where the fault cannot be caused from outside (a template
deleted since enqueue, a failing inbox write), the notifier runs in process on a real SQLite store, and the
fault is injected at the smallest seam: a SqliteStore subclass overriding one method.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from server.app import build_methods
from server.config import ServerConfig
from server.notify.dispatcher import Dispatcher
from server.notify.enqueue import Enqueuer
from server.records import (
    TEMPLATE_CUSTOM_NOTIFICATION,
    TEMPLATE_TEST_NOTIFICATION,
    InboxFilter,
    InboxNotification,
    MessageStatus,
    NotificationMessage,
    NotificationTemplate,
    User,
)
from server.store.base import StoreError
from server.store.sqlite import SqliteStore
from tests.live_server import LiveServer
from tests.server.helpers import client, inbox, message_count, message_rows, wait_for

OUT_OF_DISK = "Workspace Out Of Disk"  # its body computes `len .Data.volumes`


async def _settled(server: LiveServer, count: int) -> list[tuple[str, str, str]]:
    """The queue once `count` messages have left pending/leased (sent or failed)."""

    async def done() -> list[tuple[str, str, str]] | None:
        rows = message_rows(server)
        finished = [r for r in rows if r[1] not in ("pending", "leased", "temporary_failure")]
        return rows if len(finished) >= count else None

    return await wait_for(done)


async def test_a_payload_the_template_cannot_render_fails_for_good(live_server: LiveServer) -> None:
    bad = live_server.cli(
        "notify", "--user", "member", "--template", OUT_OF_DISK, "--label", "workspace=w1",
        "--data", json.dumps({"volumes": 5}),  # a number where the template takes the length of a list
    )  # fmt: skip
    assert bad.returncode == 0, bad.stderr
    rows = await _settled(live_server, 1)
    assert [(m, s) for m, s, _ in rows] == [("inbox", "permanent_failure")]
    reason = rows[0][2]
    assert reason.startswith("render: ") and "len" in reason, reason
    # The notifier carries on: a well-formed message of the same template is delivered.
    good = live_server.cli(
        "notify", "--user", "member", "--template", OUT_OF_DISK, "--label", "workspace=w2",
        "--data", json.dumps({"volumes": [{"path": "/home", "threshold": "90%"}]}),
    )  # fmt: skip
    assert good.returncode == 0, good.stderr
    await _settled(live_server, 2)
    (item,) = (await inbox(live_server, live_server.member_token))["notifications"]
    assert "/home" in item["content"] and "w2" in item["content"]
    assert await message_count(live_server, "permanent_failure") == 1


async def test_a_method_the_server_lacks_fails_for_good_and_the_inbox_copy_arrives(live_server: LiveServer) -> None:
    async with client(live_server) as owner:
        routed = await owner.put(
            f"/notifications/templates/{TEMPLATE_CUSTOM_NOTIFICATION}/method", json={"method": "webhook"}
        )
        assert routed.status_code == 200
    async with client(live_server, live_server.member_token) as c:
        sent = await c.post("/notifications/custom", json={"content": {"title": "t", "message": "m"}})
        assert sent.status_code == 204
    rows = await _settled(live_server, 2)
    assert sorted(rows) == [
        ("inbox", "sent", ""),
        ("webhook", "permanent_failure", "method webhook is not configured"),
    ]
    (item,) = (await inbox(live_server, live_server.member_token))["notifications"]
    assert item["title"] == "t"


# -- in process: faults that only a store subclass can cause -----------------------------------------
class FaultyStore(SqliteStore):
    """A real SQLite store with two injectable faults: templates that vanish, and inbox writes that fail."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.vanished: set[uuid.UUID] = set()
        self.failing_inbox_writes = 0

    async def get_template(self, template_id: uuid.UUID) -> NotificationTemplate | None:
        """None for a template the test deleted, as if it were gone from the database."""
        if template_id in self.vanished:
            return None
        return await super().get_template(template_id)

    async def deliver_inbox_many(
        self, deliveries: Sequence[tuple[uuid.UUID, InboxNotification]]
    ) -> list[InboxNotification | None]:
        """Fail the next `failing_inbox_writes` calls, as a database error would, before writing anything."""
        if self.failing_inbox_writes > 0:
            self.failing_inbox_writes -= 1
            raise StoreError("disk I/O error")
        return await super().deliver_inbox_many(deliveries)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[FaultyStore]:
    s = FaultyStore(str(tmp_path / "inbox.db"))
    await s.open()
    try:
        yield s
    finally:
        await s.close()


async def _notifier(store: FaultyStore, **config: object) -> tuple[Dispatcher, Enqueuer, User]:
    cfg = ServerConfig(db=":unused:", retry_interval=0.05, fetch_interval=0.2, **config)  # type: ignore[arg-type]
    dispatcher = Dispatcher(cfg, store, build_methods(cfg))
    enqueuer = Enqueuer(cfg, store, dispatcher.wake)
    user = await store.create_user(username="alice", email="alice@example.com", name="Alice", roles=[])
    return dispatcher, enqueuer, user


async def _message(store: FaultyStore, message_id: uuid.UUID, *statuses: MessageStatus) -> NotificationMessage:
    async def reached() -> NotificationMessage | None:
        got = await store.get_message(message_id)
        return got if got is not None and got.status in statuses else None

    return await wait_for(reached)


async def _send(enqueuer: Enqueuer, user: User, template_id: uuid.UUID) -> uuid.UUID:
    (message_id,) = await enqueuer.enqueue(
        user=user, template_id=template_id, labels={}, data={}, created_by="test", targets=None
    )
    return message_id


async def test_a_template_deleted_since_enqueue_fails_for_good(store: FaultyStore) -> None:
    dispatcher, enqueuer, user = await _notifier(store)
    doomed = await _send(enqueuer, user, TEMPLATE_TEST_NOTIFICATION)
    kept = await _send(enqueuer, user, TEMPLATE_CUSTOM_NOTIFICATION)
    store.vanished.add(TEMPLATE_TEST_NOTIFICATION)  # gone before the notifier looks
    await dispatcher.start()
    try:
        failed = await _message(store, doomed, MessageStatus.PERMANENT_FAILURE, MessageStatus.SENT)
        sent = await _message(store, kept, MessageStatus.PERMANENT_FAILURE, MessageStatus.SENT)
    finally:
        await dispatcher.stop()
    assert (failed.status, failed.status_reason) == (MessageStatus.PERMANENT_FAILURE, "template no longer exists")
    assert sent.status is MessageStatus.SENT  # the rest of the batch is delivered
    assert [n.id for n in await store.list_inbox(user.id, InboxFilter())] == [kept]


async def test_a_failed_inbox_write_is_retried(store: FaultyStore) -> None:
    dispatcher, enqueuer, user = await _notifier(store)
    store.failing_inbox_writes = 2
    message_id = await _send(enqueuer, user, TEMPLATE_CUSTOM_NOTIFICATION)
    await dispatcher.start()
    try:
        sent = await _message(store, message_id, MessageStatus.SENT, MessageStatus.PERMANENT_FAILURE)
    finally:
        await dispatcher.stop()
    assert store.failing_inbox_writes == 0
    assert (sent.status, sent.attempt_count) == (MessageStatus.SENT, 3)  # two failed attempts, then delivered
    assert [n.id for n in await store.list_inbox(user.id, InboxFilter())] == [message_id]


async def test_inbox_write_failures_stop_at_the_attempt_limit(store: FaultyStore) -> None:
    dispatcher, enqueuer, user = await _notifier(store, max_send_attempts=2)
    store.failing_inbox_writes = 5
    message_id = await _send(enqueuer, user, TEMPLATE_CUSTOM_NOTIFICATION)
    await dispatcher.start()
    try:
        failed = await _message(store, message_id, MessageStatus.SENT, MessageStatus.PERMANENT_FAILURE)
    finally:
        await dispatcher.stop()
    assert (failed.status, failed.attempt_count) == (MessageStatus.PERMANENT_FAILURE, 2)
    assert failed.status_reason == "disk I/O error"
    assert store.failing_inbox_writes == 3  # no third attempt
    assert await store.list_inbox(user.id, InboxFilter()) == []
