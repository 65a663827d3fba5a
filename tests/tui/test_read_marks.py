"""`check_read_marks` against a real inbox-server, driven without an app: one request when nothing changed,
a walk back to the oldest loaded row when something did."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from inbox_tui.api.client import CoderClient
from inbox_tui.api.models import InboxNotification
from inbox_tui.api.resync import check_read_marks
from inbox_tui.state import InboxState
from tests.live_server import LiveServer
from tests.tui.helpers import CountingTransport, seed_custom


@pytest.fixture
async def member(live_server: LiveServer) -> AsyncIterator[CoderClient]:
    """Another client of the member: the one that changes things "elsewhere"."""
    async with CoderClient(live_server.url, live_server.member_token) as client:
        yield client


@pytest.fixture
async def counted(live_server: LiveServer) -> AsyncIterator[tuple[CoderClient, CountingTransport]]:
    """The checking client, with every request it sends recorded."""
    transport = CountingTransport()
    async with CoderClient(live_server.url, live_server.member_token, transport=transport) as client:
        yield client, transport


async def load(client: CoderClient, pages: int = 1) -> InboxState:
    """What the inbox screen would have loaded: the first `pages` pages."""
    state = InboxState()
    state.apply_page(await client.list_inbox(), first=True)
    for _ in range(pages - 1):
        state.apply_page(await client.list_inbox(starting_before=state.cursor), first=False)
    return state


def by_title(state: InboxState, title: str) -> InboxNotification:
    return next(state.by_id[i] for i in state.ids if state.by_id[i].title == title)


async def test_nothing_changed_costs_one_request(
    member: CoderClient, counted: tuple[CoderClient, CountingTransport]
) -> None:
    client, transport = counted
    await seed_custom(member, 30)
    for notification in (await member.list_inbox()).notifications[3:8]:
        await member.set_read(notification.id, True)
    state = await load(member, pages=2)
    snapshot = state.read_snapshot()
    marks = await check_read_marks(client, snapshot.rows, snapshot.unread_count, complete=snapshot.complete)
    assert not marks.stale and marks.pages == 1
    assert len(transport.requests) == 1
    assert transport.lists("unread") == transport.requests
    assert not state.apply_read_marks(marks, snapshot).changed


async def test_read_all_elsewhere_is_found_in_one_request(
    member: CoderClient, counted: tuple[CoderClient, CountingTransport]
) -> None:
    client, transport = counted
    await seed_custom(member, 3)
    state = await load(member)
    await member.mark_all_read()
    snapshot = state.read_snapshot()
    marks = await check_read_marks(client, snapshot.rows, snapshot.unread_count, complete=snapshot.complete)
    assert marks.stale and marks.unread == () and marks.unread_count == 0 and marks.covered_after is None
    assert len(transport.requests) == 1
    result = state.apply_read_marks(marks, snapshot)
    assert len(result.updated) == 3 and not result.added
    assert state.unread_count == 0 and all(state.by_id[i].is_read for i in state.ids)


async def test_a_read_deep_in_the_list_walks_back_to_the_oldest_loaded_row(
    member: CoderClient, counted: tuple[CoderClient, CountingTransport]
) -> None:
    client, transport = counted
    await seed_custom(member, 60)
    state = await load(member, pages=2)  # Custom 59 .. Custom 10
    assert len(state) == 50 and state.has_more
    await member.set_read(by_title(state, "Custom 12").id, True)
    snapshot = state.read_snapshot()
    marks = await check_read_marks(client, snapshot.rows, snapshot.unread_count, complete=snapshot.complete)
    # The first page's count (59, not 60) says something changed; the walk goes on until Custom 10 is covered.
    assert marks.stale and marks.unread_count == 59
    assert all(marks.covers(n) for n in snapshot.rows)
    assert marks.pages == len(transport.requests) == 2  # 59..35, then 34..9 (12 is read): past Custom 10
    assert transport.lists("unread")[1].url.params["starting_before"] == marks.unread[24].id
    result = state.apply_read_marks(marks, snapshot)
    assert result.updated == (by_title(state, "Custom 12").id,)
    assert by_title(state, "Custom 12").is_read and state.unread_count == 59
    assert [state.by_id[i].title for i in state.ids] == [f"Custom {n}" for n in range(59, 9, -1)]


async def test_a_toggle_that_leaves_the_count_alone_is_found(
    member: CoderClient, counted: tuple[CoderClient, CountingTransport]
) -> None:
    client, _ = counted
    await seed_custom(member, 4)
    first = (await member.list_inbox()).notifications
    await member.set_read(first[0].id, True)
    state = await load(member)
    # Elsewhere: the read one becomes unread and another one read; the count stays 3.
    await member.set_read(first[0].id, False)
    await member.set_read(first[2].id, True)
    snapshot = state.read_snapshot()
    marks = await check_read_marks(client, snapshot.rows, snapshot.unread_count, complete=snapshot.complete)
    assert marks.stale and marks.unread_count == snapshot.unread_count == 3
    state.apply_read_marks(marks, snapshot)
    assert not state.by_id[first[0].id].is_read and state.by_id[first[2].id].is_read


async def test_a_missed_arrival_is_found(member: CoderClient, counted: tuple[CoderClient, CountingTransport]) -> None:
    client, _ = counted
    await seed_custom(member, 2)
    state = await load(member)
    await seed_custom(member, 1, prefix="Missed")
    snapshot = state.read_snapshot()
    marks = await check_read_marks(client, snapshot.rows, snapshot.unread_count, complete=snapshot.complete)
    assert marks.stale
    result = state.apply_read_marks(marks, snapshot)
    assert len(result.added) == 1 and state.by_id[state.ids[0]].title == "Missed 0"
    assert state.unread_count == 3 and state.rows_agree_with_count()


async def test_a_read_only_view_is_not_missing_unread_rows(
    member: CoderClient, counted: tuple[CoderClient, CountingTransport]
) -> None:
    client, _ = counted
    await seed_custom(member, 3)
    read = (await member.list_inbox()).notifications[1]
    await member.set_read(read.id, True)
    page = await member.list_inbox(read_status="read")
    marks = await check_read_marks(client, page.notifications, page.unread_count, read_status="read", complete=True)
    assert not marks.stale and marks.pages == 1
