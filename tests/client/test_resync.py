"""Catching up after a reconnect: pages until known items, nothing lost, nothing doubled."""

from __future__ import annotations

from inbox_tui.api.models import InboxNotification
from inbox_tui.api.resync import merge_newest_first, resync
from tests.client.fakes import FakeInbox, fake_client, notification_json


def ids(notifications: tuple[InboxNotification, ...] | list[InboxNotification]) -> list[str]:
    return [n.title for n in notifications]


async def test_new_items_on_the_first_page() -> None:
    inbox = FakeInbox(30)
    known = {n["id"] for n in inbox.items}
    inbox.add(30)
    inbox.add(31)
    async with fake_client(inbox) as client:
        result = await resync(client, known)
    assert ids(result.new) == ["Notification 31", "Notification 30"]
    assert result.complete and result.pages == 1
    assert result.unread_count == 32
    assert "starting_before" not in inbox.requests[0].url.params


async def test_many_missed_items_span_pages() -> None:
    inbox = FakeInbox(10)
    known = {n["id"] for n in inbox.items}
    for i in range(10, 70):  # 60 arrived while disconnected
        inbox.add(i)
    async with fake_client(inbox) as client:
        result = await resync(client, known)
    assert ids(result.new) == [f"Notification {i}" for i in range(69, 9, -1)]
    assert len({n.id for n in result.new}) == 60
    assert result.pages == 3 and result.complete
    # Pages follow the cursor: the last id of the previous page.
    assert inbox.requests[1].url.params["starting_before"] == result.new[24].id
    # Known items seen on the way are handed back fresh (their read state may have changed).
    assert ids(result.refreshed) == [f"Notification {i}" for i in range(9, -1, -1)]


async def test_stops_at_a_short_page() -> None:
    inbox = FakeInbox(3)
    async with fake_client(inbox) as client:
        result = await resync(client, {"someone-else"})
    assert ids(result.new) == ["Notification 2", "Notification 1", "Notification 0"]
    assert result.complete and result.pages == 1


async def test_nothing_known_returns_the_first_page_only() -> None:
    inbox = FakeInbox(60)
    async with fake_client(inbox) as client:
        result = await resync(client, set())
    assert len(result.new) == 25 and result.pages == 1 and result.complete


async def test_gives_up_after_max_pages() -> None:
    inbox = FakeInbox(200)
    async with fake_client(inbox) as client:
        result = await resync(client, {"not-there"}, max_pages=3)
    assert len(result.new) == 75 and not result.complete and result.pages == 3


async def test_filters_are_passed_on() -> None:
    inbox = FakeInbox(2)
    async with fake_client(inbox) as client:
        await resync(client, set(), targets=["t"], templates=["a", "b"], read_status="unread")
    assert dict(inbox.requests[0].url.params) == {"targets": "t", "templates": "a,b", "read_status": "unread"}


def test_merge_newest_first_without_duplicates() -> None:
    old = [InboxNotification.from_json(notification_json(i)) for i in (5, 3, 1)]
    incoming = [InboxNotification.from_json(notification_json(i, read=True)) for i in (6, 3)]
    merged = merge_newest_first(old, incoming)
    assert ids(merged) == ["Notification 6", "Notification 5", "Notification 3", "Notification 1"]
    assert merged[2].is_read  # the incoming copy wins
