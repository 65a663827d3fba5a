"""The inbox feed against a real inbox-server, without Textual: first page, older pages, arrivals gathered
during a load, the watch, resync after missed arrivals, read marks changed elsewhere, read changes."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from inbox_tui.api.client import PAGE_SIZE, CoderClient
from inbox_tui.api.errors import ApiError
from inbox_tui.api.models import InboxEvent
from inbox_tui.api.watch import ConnectionState, StateChanged
from inbox_tui.feed import InboxFeed
from inbox_tui.state import Filters, InboxState
from tests.live_server import LiveServer

WAIT = 30.0  # generous: outcomes are asserted, never speed


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def client(shared_server: LiveServer) -> AsyncIterator[CoderClient]:
    """A client of a user of its own (an empty inbox) on the shared server."""
    token = shared_server.create_user(f"feed-{uuid.uuid4().hex[:8]}")
    async with CoderClient(shared_server.url, token) as client:
        yield client


def feed_for(client: CoderClient, filters: Filters | None = None) -> InboxFeed:
    return InboxFeed(client, InboxState(filters=filters or Filters()), now)


async def seed(client: CoderClient, count: int, prefix: str = "Custom") -> None:
    """Send `count` custom notifications to the client's own user and wait until all are delivered."""
    before = (await client.list_inbox()).unread_count
    for i in range(count):
        await client.send_custom(f"{prefix} {i}", f"Message {i}")
    deadline = time.monotonic() + WAIT
    while (await client.list_inbox()).unread_count < before + count:
        assert time.monotonic() < deadline, f"fewer than {count} notifications delivered"
        await asyncio.sleep(0.05)


def titles(feed: InboxFeed) -> list[str]:
    return [feed.state.by_id[i].title for i in feed.state.ids]


async def test_first_page_then_older_pages(client: CoderClient) -> None:
    await seed(client, PAGE_SIZE + 5)
    feed = feed_for(client)
    first = await feed.load_first()
    assert len(first.added) == PAGE_SIZE and feed.state.loaded and not feed.loading
    assert feed.can_load_more
    more = await feed.load_more()
    assert more is not None and len(more.added) == 5
    assert titles(feed)[0] == f"Custom {PAGE_SIZE + 4}" and titles(feed)[-1] == "Custom 0"
    assert not feed.can_load_more


async def test_an_older_page_for_other_filters_is_dropped(client: CoderClient) -> None:
    await seed(client, PAGE_SIZE + 1)
    feed = feed_for(client)
    await feed.load_first()
    pending = asyncio.ensure_future(feed.load_more())
    await asyncio.sleep(0)  # the request is on its way
    feed.reset(Filters(read_status="unread"))
    assert await pending is None
    assert len(feed.state) == 0


async def test_the_start_up_page_is_taken_once_and_only_for_its_filters(client: CoderClient) -> None:
    await seed(client, 2)
    feed = feed_for(client)
    future = feed.prefetch()
    assert future is not None
    await future
    assert feed.take_ready_page() and titles(feed) == ["Custom 1", "Custom 0"]
    assert not feed.take_ready_page()  # taken
    other = feed_for(client)
    assert other.prefetch() is not None
    other.reset(Filters(read_status="read"))
    # Other filters than the prefetch's: the prefetch is dropped and the page asked for again.
    await other.load_first()
    assert other.state.filters.read_status == "read" and titles(other) == []


async def test_arrivals_during_the_first_load_are_kept(client: CoderClient) -> None:
    await seed(client, 1)
    known = (await client.list_inbox()).notifications[0]
    newer = known._replace(id=str(uuid.uuid4()), title="Arrived meanwhile")
    feed = feed_for(client)
    feed.begin_load()
    assert feed.loading
    page_on_its_way = asyncio.ensure_future(feed.load_first())
    await asyncio.sleep(0)  # the request is on its way
    assert not feed.state.loaded
    feed.queue_arrival(InboxEvent(newer, 2))
    await page_on_its_way
    assert titles(feed) == ["Arrived meanwhile", "Custom 0"] and feed.state.unread_count == 2


async def test_a_failed_first_load_says_why(shared_server: LiveServer) -> None:
    async with CoderClient(shared_server.url, "bad-token") as bad:
        feed = feed_for(bad)
        with pytest.raises(ApiError) as raised:
            await feed.load_first()
        assert not feed.loading and not feed.state.loaded
        feed.load_failed(raised.value)
        assert feed.load_error
        feed.begin_load()
        assert feed.load_error is None


async def test_arrivals_are_merged_in_batches(client: CoderClient) -> None:
    await seed(client, 3)
    feed = feed_for(client)
    page = await client.list_inbox()
    assert feed.flush_arrivals() is None
    for count, notification in enumerate(reversed(page.notifications), 1):
        feed.queue_arrival(InboxEvent(notification, count))
    merged = feed.flush_arrivals()
    assert merged is not None and len(merged.added) == 3 and feed.state.unread_count == 3
    assert feed.flush_arrivals() is None
    assert titles(feed) == ["Custom 2", "Custom 1", "Custom 0"]
    feed.state.begin_set_read(feed.state.ids[0], True, now())
    assert sorted(n.title for n in feed.new_unread(list(merged.added))) == ["Custom 0", "Custom 1"]


async def test_follow_reports_the_link_and_arrivals(client: CoderClient) -> None:
    feed = feed_for(client)
    await feed.load_first()
    arrived: list[InboxEvent] = []
    states: list[StateChanged] = []
    live = asyncio.Event()

    def changed(item: StateChanged) -> None:
        states.append(item)
        if item.state is ConnectionState.LIVE:
            live.set()

    following = asyncio.ensure_future(feed.follow(arrived.append, changed))
    try:
        await asyncio.wait_for(live.wait(), WAIT)
        assert feed.watcher is not None and feed.retry_now()
        await client.send_custom("Live one", "arrives through the watch")
        deadline = time.monotonic() + WAIT
        while not arrived:
            assert time.monotonic() < deadline, "nothing arrived through the watch"
            await asyncio.sleep(0.02)
        assert arrived[0].notification.title == "Live one"
    finally:
        following.cancel()
        with pytest.raises(asyncio.CancelledError):
            await following
    assert feed.watcher is None and not feed.retry_now()


async def test_resync_finds_what_was_missed(client: CoderClient) -> None:
    await seed(client, 2)
    feed = feed_for(client)
    await feed.load_first()
    await seed(client, 3, prefix="Missed")
    caught_up = await feed.resync()
    assert caught_up.current and not caught_up.reload
    assert len(caught_up.merged.added) == 3 and feed.state.unread_count == 5
    assert titles(feed)[:3] == ["Missed 2", "Missed 1", "Missed 0"]


async def test_read_marks_changed_elsewhere_are_taken(client: CoderClient) -> None:
    await seed(client, 3)
    feed = feed_for(client)
    await feed.load_first()
    quiet = await feed.check_read_marks(force=False)
    assert quiet is not None and quiet.changed_ids == () and not quiet.count_changed
    middle = feed.state.ids[1]
    await client.set_read(middle, True)  # "elsewhere": the feed was not told
    checked = await feed.check_read_marks(force=True)
    assert checked is not None and checked.changed_ids == (middle,) and checked.count_changed
    assert feed.state.by_id[middle].is_read and feed.state.unread_count == 2


async def test_read_changes_reach_the_server(client: CoderClient) -> None:
    await seed(client, 2)
    feed = feed_for(client)
    await feed.load_first()
    first = feed.state.ids[0]
    change = feed.state.begin_set_read(first, True, now())
    assert change is not None
    await feed.send_read(change)
    assert (await client.list_inbox()).unread_count == 1
    mark_all = feed.state.begin_mark_all(now())
    assert not feed.can_check_read_marks  # a mark-all on its way: checks would read a half-done state
    await feed.send_mark_all(mark_all)
    assert feed.can_check_read_marks
    assert (await client.list_inbox()).unread_count == 0 and feed.state.unread_count == 0


async def test_a_fixed_inbox_fetches_nothing() -> None:
    feed = InboxFeed(None, InboxState(), now)
    assert feed.prefetch() is None and not feed.can_load_more and not feed.can_check_read_marks
    assert await feed.load_more() is None and await feed.check_read_marks(force=True) is None


async def test_paused_delivery_is_read_by_a_member(live_server: LiveServer) -> None:
    async with (
        CoderClient(live_server.url, live_server.owner_token) as owner,
        CoderClient(live_server.url, live_server.member_token) as member,
    ):
        feed = feed_for(member)
        assert await feed.delivery_paused() is False
        await owner.set_paused(True)
        assert await feed.delivery_paused() is True
    assert await InboxFeed(None, InboxState(), now).delivery_paused() is None
