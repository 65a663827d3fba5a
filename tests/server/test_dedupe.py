"""Deduplication: `dedupe_hash` itself, and the enqueuer dropping a repeat on a real store (spec 10)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from server.config import ServerConfig
from server.notify.enqueue import Enqueuer, dedupe_hash
from server.records import TEMPLATE_CUSTOM_NOTIFICATION, TEMPLATE_TEST_NOTIFICATION, User
from server.store.sqlite import SqliteStore

USER = uuid.UUID("11111111-1111-4111-8111-111111111111")
OTHER_USER = uuid.UUID("22222222-2222-4222-8222-222222222222")
TARGET = uuid.UUID("33333333-3333-4333-8333-333333333333")
NOON = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
PAYLOAD: dict[str, Any] = {"labels": {"a": "1", "b": "2"}, "data": {}, "user_id": str(USER)}


def base(**changes: Any) -> str:
    """The hash of one reference message, with some of its parts changed."""
    args: dict[str, Any] = {
        "template_id": TEMPLATE_CUSTOM_NOTIFICATION,
        "user_id": USER,
        "method": "inbox",
        "payload": PAYLOAD,
        "targets": (TARGET,),
        "now": NOON,
    }
    args.update(changes)
    return dedupe_hash(**args)


def test_same_message_on_the_same_utc_day_hashes_the_same() -> None:
    assert base() == base(now=NOON.replace(hour=0)) == base(now=NOON.replace(hour=23, minute=59, second=59))
    assert base() == base(payload={"user_id": str(USER), "data": {}, "labels": {"b": "2", "a": "1"}})  # key order
    assert base() == base(now=NOON.astimezone(timezone(timedelta(hours=-11))))  # another zone, same UTC day
    assert len(base()) == 32 and int(base(), 16) >= 0  # an md5 hex digest


@pytest.mark.parametrize(
    "change",
    [
        {"template_id": TEMPLATE_TEST_NOTIFICATION},
        {"user_id": OTHER_USER},
        {"method": "smtp"},
        {"payload": {**PAYLOAD, "labels": {"a": "1", "b": "3"}}},
        {"payload": {**PAYLOAD, "data": {"dedupe_bypass_ts": "2025-06-01T12:00:00+00:00"}}},
        {"targets": None},
        {"targets": (TARGET, OTHER_USER)},
        {"now": NOON + timedelta(days=1)},
        {"now": NOON.replace(hour=23, minute=59, second=59) + timedelta(seconds=1)},
    ],
    ids=[
        "template",
        "user",
        "method",
        "labels",
        "data",
        "no-targets",
        "more-targets",
        "next-day",
        "midnight",
    ],
)
def test_any_other_part_makes_another_message(change: dict[str, Any]) -> None:
    assert base(**change) != base()


async def test_enqueuer_queues_a_repeat_once(store: SqliteStore) -> None:
    user: User = await store.create_user(username="alice", email="alice@example.com", name="Alice", roles=[])
    wakes: list[None] = []
    enqueuer = Enqueuer(ServerConfig(db=""), store, lambda: wakes.append(None))

    async def send(labels: dict[str, str]) -> list[uuid.UUID]:
        return await enqueuer.enqueue(
            user=user,
            template_id=TEMPLATE_TEST_NOTIFICATION,
            labels=labels,
            data={},
            created_by="test",
            targets=(TARGET,),
        )

    first = await send({"x": "1"})
    assert len(first) == 1  # inbox only: no other method is configured
    assert await send({"x": "1"}) == []  # the same message again: dropped, and nobody is woken
    assert len(await send({"x": "2"})) == 1
    assert await store.count_messages() == 2
    assert len(wakes) == 2
    stored = await store.get_message(first[0])
    assert stored is not None
    assert stored.dedupe_hash == dedupe_hash(
        TEMPLATE_TEST_NOTIFICATION, user.id, "inbox", stored.payload, (TARGET,), now=stored.created_at
    )
