"""`mark_read_on_preview`: opening the preview (`enter`) marks the notification read on the server, as `r`
does; off by default; `run_app` passes the config file's switches (issue 11)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from inbox_tui import app as app_module
from inbox_tui import messages
from inbox_tui.api.client import CoderClient
from inbox_tui.app import InboxApp, run_app
from inbox_tui.config import Config
from inbox_tui.screens.preview import PreviewScreen
from tests.live_server import LiveServer
from tests.local_env import LocalEnv
from tests.tui.helpers import Posted, inbox_screen, seed_custom, settle, wait_for


@pytest.fixture
async def member(live_server: LiveServer) -> AsyncIterator[CoderClient]:
    async with CoderClient(live_server.url, live_server.member_token) as client:
        yield client


async def read_on_server(member: CoderClient) -> dict[str, bool]:
    return {n.title: n.is_read for n in (await member.list_inbox()).notifications}


@pytest.mark.parametrize("size", [(120, 30), (60, 20)])  # the side preview, the full-screen one
async def test_enter_marks_read_when_switched_on(
    live_server: LiveServer, member: CoderClient, size: tuple[int, int]
) -> None:
    await seed_custom(member, 2)
    app = InboxApp(
        CoderClient(live_server.url, live_server.member_token), owns_client=True, watch=False, mark_read_on_preview=True
    )
    posted = Posted()
    async with app.run_test(size=size, message_hook=posted) as pilot:
        await posted.wait(messages.FirstPageShown, "the first page")
        await settle(pilot)
        screen = inbox_screen(app)
        assert screen.inbox.notification is not None
        title = screen.inbox.notification.title
        await pilot.press("enter")
        await settle(pilot)
        assert app.state.unread_count == 1
        assert (await read_on_server(member))[title] is True
        if size[0] < 80:
            assert isinstance(app.screen, PreviewScreen)
            await pilot.press("escape")
        else:
            assert screen.preview_open
            await pilot.press("enter")  # closing it changes nothing
            await settle(pilot)
        assert (await read_on_server(member))[title] is True and app.state.unread_count == 1


async def test_enter_only_previews_by_default(live_server: LiveServer, member: CoderClient) -> None:
    await seed_custom(member, 2)
    app = InboxApp(CoderClient(live_server.url, live_server.member_token), owns_client=True, watch=False)
    posted = Posted()
    async with app.run_test(size=(120, 30), message_hook=posted) as pilot:
        await posted.wait(messages.FirstPageShown, "the first page")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert inbox_screen(app).preview_open
        await wait_for(pilot, lambda: app.state.unread_count == 2, "nothing read")
    assert set((await read_on_server(member)).values()) == {False}


@dataclass
class FakeConnection:
    url: str
    token: str
    source: str = "config"

    def client(self, *, timeout: float = 10.0) -> CoderClient:
        return CoderClient(self.url, self.token, timeout=timeout)


def test_run_app_passes_the_config_switches(
    local_env: LocalEnv, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[InboxApp] = []

    def run(self: InboxApp, *args: Any, **kwargs: Any) -> None:
        built.append(self)

    monkeypatch.setattr(app_module.InboxApp, "run", run)
    connection = FakeConnection(live_server.url, live_server.member_token)
    run_app(connection, config=Config(terminal_title=False, mark_read_on_preview=True))
    run_app(connection, config=Config())
    assert [(a.terminal_title, a.mark_read_on_preview) for a in built] == [(False, True), (True, False)]
    assert built[0].inbox_context().mark_read_on_preview and not built[1].inbox_context().mark_read_on_preview
