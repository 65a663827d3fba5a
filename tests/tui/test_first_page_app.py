"""The app shows the first page `inbox-tui` fetched before Textual loaded (issue 11), and asks its own
client when there is none: the plain fetch failed, or it was for other filters."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from inbox_tui.api.client import CoderClient
from inbox_tui.app import InboxApp
from inbox_tui.first_page import FirstPage, Route
from inbox_tui.state import Filters
from tests.client.fakes import notification_json
from tests.client.raw_http import RawServer, response
from tests.live_server import LiveServer
from tests.tui.helpers import inbox_screen, seed_custom, settle, wait_for

SIZE = (120, 40)
PAGE = json.dumps({"notifications": [notification_json(1), notification_json(0)], "unread_count": 2}).encode()


@pytest.fixture
def plain_server() -> Iterator[RawServer]:
    """Stands in for the server the plain fetch reaches, with a page the live server does not have."""
    server = RawServer(response(PAGE))
    yield server
    server.close()


def titles(app: InboxApp) -> list[str]:
    return [app.state.by_id[i].title for i in inbox_screen(app).inbox.ids]


def first_page(url: str, token: str, filters: Filters) -> FirstPage:
    route = Route.for_deployment(url, env={})
    assert route is not None
    return FirstPage(route, token, filters)


async def run_app(live_server: LiveServer, first: FirstPage, filters: Filters | None = None) -> list[str]:
    client = CoderClient(live_server.url, live_server.member_token)
    app = InboxApp(client, owns_client=True, watch=False, first_page=first, filters=filters)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: app.state.loaded, "the first page")
        return titles(app)


async def test_the_page_fetched_before_textual_is_shown(live_server: LiveServer, plain_server: RawServer) -> None:
    async with CoderClient(live_server.url, live_server.member_token) as member:
        await seed_custom(member, 2)
    first = first_page(plain_server.url, "t", Filters())
    assert await run_app(live_server, first) == ["Notification 1", "Notification 0"]
    assert len(plain_server.requests) == 1


async def test_a_failed_plain_fetch_falls_back_to_the_client(live_server: LiveServer) -> None:
    async with CoderClient(live_server.url, live_server.member_token) as member:
        await seed_custom(member, 2)
    refused = first_page(live_server.url, "00000000-bad-token", Filters())  # 401
    assert await run_app(live_server, refused) == ["Custom 1", "Custom 0"]
    assert refused.error is not None


async def test_a_page_for_other_filters_is_not_shown(live_server: LiveServer, plain_server: RawServer) -> None:
    async with CoderClient(live_server.url, live_server.member_token) as member:
        await seed_custom(member, 1)
    other = first_page(plain_server.url, "t", Filters(read_status="read"))
    assert await run_app(live_server, other, Filters()) == ["Custom 0"]
