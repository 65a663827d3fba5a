"""The custom notification form against a real inbox-server: sending, validation, limits, $EDITOR, looks."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from inbox_tui.api.client import CoderClient
from inbox_tui.api.errors import ApiError
from inbox_tui.api.models import CUSTOM_TEMPLATE_ID, InboxNotification
from inbox_tui.screens.compose import ComposeScreen, is_blank, server_field_errors, validate
from inbox_tui.screens.confirm import UnsavedChangesScreen
from inbox_tui.widgets.byte_counter import ByteCounter, byte_length
from inbox_tui.widgets.markdown_preview import MarkdownPreview
from inbox_tui.widgets.status_line import StatusLine
from tests.live_server import LiveServer
from tests.tui.screen_host import WAIT, ScreenHost, settle, wait_for

SIZE = (120, 40)
SnapCompare = Callable[..., bool]


@pytest.fixture
async def member(live_server: LiveServer) -> AsyncIterator[CoderClient]:
    """The member's API client, to look at the member's inbox."""
    async with CoderClient(live_server.url, live_server.member_token) as client:
        yield client


def host(server: LiveServer, token: str | None = None, **prefill: str) -> ScreenHost:
    return ScreenHost(server.url, token or server.member_token, lambda client: ComposeScreen(client, **prefill))


def screen(app: ScreenHost) -> ComposeScreen:
    assert isinstance(app.screen_under_test, ComposeScreen)
    return app.screen_under_test


def error_of(app: ScreenHost, field: str) -> str:
    return screen(app).query_one(f"#{field}-error", StatusLine).text


def counter(app: ScreenHost, field: str) -> ByteCounter:
    return screen(app).query_one(f"#{field}-counter", ByteCounter)


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Type like a person (space and newline by their key names)."""
    keys = ["space" if c == " " else "enter" if c == "\n" else c for c in text]
    await pilot.press(*keys)


async def inbox_of(client: CoderClient) -> list[InboxNotification]:
    return list((await client.list_inbox()).notifications)


async def arrived(client: CoderClient, title: str) -> InboxNotification:
    """Poll the inbox until a notification with this title is there (delivery is asynchronous)."""
    deadline = time.monotonic() + WAIT
    while True:
        for notification in await inbox_of(client):
            if notification.title == title:
                return notification
        if time.monotonic() > deadline:
            raise AssertionError(f"{title!r} never arrived")
        await asyncio.sleep(0.05)


async def opened(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    assert isinstance(pilot.app, ScreenHost)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ComposeScreen), "the form")


# ----- validation rules (no server) ------------------------------------------------------------------


def test_validation_mirrors_the_server() -> None:
    assert validate("t", "m") == {}
    assert set(validate("", "m")) == {"title"}
    assert set(validate("t", " \n\t ")) == {"message"}
    assert set(validate("\u3000", "\xa0")) == {"title", "message"}  # Go's TrimSpace trims these
    assert not is_blank("\x1c")  # ...but not the file separators Python's str.strip() would
    assert validate("é" * 60, "x" * 2000) == {}  # exactly the limits, in bytes
    problems = validate("é" * 61, "x" * 2001)
    assert "122 bytes" in problems["title"] and "2,001 bytes" in problems["message"]
    assert byte_length("é") == 2 and byte_length("👍") == 4


async def test_server_refusals_map_to_their_fields(member: CoderClient) -> None:
    """The real server's 400 bodies, and where the form puts them."""
    refusals: list[ApiError] = []
    for title, message in (("t" * 121, "m"), ("t", "m" * 2001), ("", "")):
        with pytest.raises(ApiError) as caught:
            await member.send_custom(title, message)
        refusals.append(caught.value)
    too_long_title, too_long_message, blank = (server_field_errors(e) for e in refusals)
    assert too_long_title == {"title": "'content.title' must be less than 120 characters"}
    assert too_long_message == {"message": "'content.message' must be less than 2000 characters"}
    assert set(blank) == {"title", "message"}
    assert server_field_errors(ApiError(method="POST", url="u", status=500, message="Failed")) == {}


# ----- the form against the server ---------------------------------------------------------------------


async def test_compose_sends_and_the_notification_arrives(live_server: LiveServer, member: CoderClient) -> None:
    app = host(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        assert isinstance(app.focused, Input)
        await type_text(pilot, "Build done")
        await pilot.press("enter")  # on to the message
        assert isinstance(app.focused, TextArea)
        await type_text(pilot, "All **42** tests passed.")
        assert counter(app, "title").used == 10 and counter(app, "message").used == 24
        await pilot.press("ctrl+s")
        await settle(pilot)
        await wait_for(pilot, lambda: not isinstance(app.screen, ComposeScreen), "the form to close")
        assert screen(app).sent
        assert any(n.message == "A custom notification has been sent." for n in app._notifications)
    notification = await arrived(member, "Build done")
    assert notification.content == "All **42** tests passed."
    assert notification.template_id == CUSTOM_TEMPLATE_ID


async def test_empty_title_is_refused_inline_and_nothing_is_sent(live_server: LiveServer, member: CoderClient) -> None:
    app = host(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        assert error_of(app, "title") == ""  # nothing shouted at a blank form
        await type_text(pilot, "   ")
        screen(app).message_area.focus()
        await type_text(pilot, "a body")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert error_of(app, "title") == "A title is required."
        assert error_of(app, "message") == ""
        assert screen(app).title_input.has_class("-invalid")
        assert screen(app).status.text.startswith("Not sent")
        assert app.focused is screen(app).title_input
        assert isinstance(app.screen, ComposeScreen) and not screen(app).sent
    await settle_server(member)
    assert await inbox_of(member) == []


async def settle_server(client: CoderClient) -> None:
    """Nothing was enqueued if nothing was sent; a round trip makes sure the server is answering."""
    await client.settings()


async def test_byte_counter_and_limits(live_server: LiveServer, member: CoderClient) -> None:
    app = host(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        title = screen(app).title_input
        title.value = "é" * 61  # 61 characters, 122 bytes
        await pilot.pause()
        assert str(counter(app, "title").render()) == "122 / 120 bytes"
        assert counter(app, "title").has_class("-over")
        assert "122 bytes" in error_of(app, "title")
        screen(app).message_area.text = "x" * 2001
        await pilot.pause()
        assert str(counter(app, "message").render()) == "2,001 / 2,000 bytes"
        assert "at most 2,000" in error_of(app, "message")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen) and not screen(app).sent
        title.value = "é" * 60  # exactly the limit is allowed
        screen(app).message_area.text = "x" * 2000
        await pilot.pause()
        assert error_of(app, "title") == "" and error_of(app, "message") == ""
        assert counter(app, "title").has_class("-near") and not counter(app, "title").has_class("-over")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await wait_for(pilot, lambda: screen(app).sent, "the send")
    assert (await arrived(member, "é" * 60)).content == "x" * 2000


async def test_a_refusal_without_a_field_is_said_under_the_form(live_server: LiveServer) -> None:
    token = live_server.create_user("build-bot", system=True)
    app = host(live_server, token, title="From a bot", message="hello")
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        status = screen(app).status
        assert status.kind == "error"
        assert "Forbidden" in status.text and "System users cannot send custom notifications." in status.text
        assert error_of(app, "title") == "" and error_of(app, "message") == ""
        assert screen(app).title_input.value == "From a bot"  # nothing lost
        assert isinstance(app.screen, ComposeScreen)


async def test_preview_follows_the_message(live_server: LiveServer) -> None:
    app = host(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        preview = screen(app).query_one(MarkdownPreview)
        assert preview.shown == ""
        screen(app).message_area.focus()
        await type_text(pilot, "# Heading\n**bold**")
        await wait_for(pilot, lambda: preview.shown == "# Heading\n**bold**", "the preview")


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def write_editor(tmp_path: Path, body: str) -> str:
    script = tmp_path / "editor.py"
    script.write_text(f"import sys\npath = sys.argv[1]\n{body}\n")
    return f"{sys.executable} {script}"


async def test_external_editor_edits_the_message(
    live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    appender = write_editor(
        tmp_path, "text = open(path).read()\nopen(path, 'w').write(text + '\\n\\nEdited **here**.\\n')"
    )
    monkeypatch.setenv("VISUAL", appender)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    app = host(live_server, title="t", message="Hello")
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await pilot.press("ctrl+e")  # even from the title field (the editors' own ctrl+e loses)
        await settle(pilot)
        assert screen(app).message_area.text == "Hello\n\nEdited **here**."  # the editor's final newline dropped
        assert counter(app, "message").used == len("Hello\n\nEdited **here**.")
        preview = screen(app).query_one(MarkdownPreview)
        await wait_for(pilot, lambda: preview.shown == "Hello\n\nEdited **here**.", "the preview")
        assert leftovers(scratch) == []  # the temporary file is gone


async def test_external_editor_failures_leave_the_message_alone(
    live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VISUAL", write_editor(tmp_path, "open(path, 'w').write('junk')\nsys.exit(3)"))
    app = host(live_server, title="t", message="Hello")
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert screen(app).message_area.text == "Hello"
        assert "exited with status 3" in screen(app).status.text
        monkeypatch.setenv("VISUAL", str(tmp_path / "no-such-editor"))
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert screen(app).message_area.text == "Hello"
        assert screen(app).status.text.startswith("Could not start")


async def test_escape_asks_before_dropping_text(live_server: LiveServer, member: CoderClient) -> None:
    app = host(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await type_text(pilot, "Draft")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, UnsavedChangesScreen)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen) and screen(app).title_input.value == "Draft"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert not isinstance(app.screen, ComposeScreen | UnsavedChangesScreen)
    assert await inbox_of(member) == []


async def test_escape_on_a_blank_form_just_closes(live_server: LiveServer) -> None:
    app = ScreenHost(live_server.url, live_server.member_token, lambda client: ComposeScreen())  # app.client
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ComposeScreen)


# ----- looks -------------------------------------------------------------------------------------------


def test_snapshot_compose_with_preview(snap_compare: SnapCompare, live_server: LiveServer) -> None:
    app = host(
        live_server,
        title="Nightly build finished",
        message="## main is green\n\nAll **412** tests passed in `4m 12s`.\n\n- coverage 91%\n- 0 flaky tests",
    )
    assert snap_compare(app, terminal_size=(120, 32), run_before=opened)


def test_snapshot_compose_validation(snap_compare: SnapCompare, live_server: LiveServer) -> None:
    async def invalid(pilot: Pilot[Any]) -> None:
        await opened(pilot)
        assert isinstance(pilot.app, ScreenHost)
        screen(pilot.app).title_input.value = "Deploy finished on every cluster in every region, " * 3
        await pilot.press("ctrl+s")
        await settle(pilot)

    assert snap_compare(host(live_server), terminal_size=(120, 32), run_before=invalid)


async def test_c_opens_it_from_the_inbox_app(live_server: LiveServer, member: CoderClient) -> None:
    from inbox_tui.app import InboxApp

    app = InboxApp(CoderClient(live_server.url, live_server.member_token), owns_client=True, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ComposeScreen), "the form")
        await type_text(pilot, "From the inbox")
        await pilot.press("enter")
        await type_text(pilot, "body")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, ComposeScreen), "the form to close")
    await arrived(member, "From the inbox")


# ----- side panes (80x24, 60x20): honest feedback ---------------------------------------------------


SIDE_PANES = pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])


@SIDE_PANES
async def test_the_fix_the_fields_notice_goes_once_they_are_fixed(
    live_server: LiveServer, size: tuple[int, int]
) -> None:
    app = host(live_server)
    async with app.run_test(size=size) as pilot:
        await opened(pilot)
        form = screen(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert form.status.text == "Not sent: fix the fields marked above."
        await type_text(pilot, "Deploy")
        await pilot.pause()
        assert form.status.text == "Not sent: fix the fields marked above."  # the message is still empty
        await pilot.press("enter")
        await type_text(pilot, "done")
        await pilot.pause()
        assert form.status.text == ""


@SIDE_PANES
async def test_tabbing_back_into_the_title_keeps_its_text(live_server: LiveServer, size: tuple[int, int]) -> None:
    """Typing after shift+tab goes on from the cursor instead of replacing the selected title."""
    app = host(live_server)
    async with app.run_test(size=size) as pilot:
        await opened(pilot)
        form = screen(app)
        await type_text(pilot, "Deploy")
        await pilot.press("tab")
        await pilot.pause()
        assert form.message_area.has_focus
        await pilot.press("shift+tab")
        await pilot.pause()
        assert form.title_input.has_focus
        await type_text(pilot, "ed")
        await pilot.pause()
        assert form.title_input.value == "Deployed"


@SIDE_PANES
async def test_the_form_warns_when_nothing_will_arrive(
    live_server: LiveServer, member: CoderClient, size: tuple[int, int]
) -> None:
    """Custom Notification off in the preferences, delivery paused: said in the form and when sent."""
    from inbox_tui.api.send_warnings import DELIVERY_PAUSED, PREFERENCE_OFF

    await member.update_preferences({CUSTOM_TEMPLATE_ID: True})
    async with CoderClient(live_server.url, live_server.owner_token) as owner:
        await owner.set_paused(True)
    app = host(live_server, title="Deploy", message="done")
    async with app.run_test(size=size) as pilot:
        await opened(pilot)
        await settle(pilot)
        warning = screen(app).query_one("#compose-warnings", StatusLine)
        assert PREFERENCE_OFF.message in warning.text and DELIVERY_PAUSED.message in warning.text
        assert warning.display and warning.region.height >= 2
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen(app).sent, "the send")
        toasts = [n.message for n in app._notifications]
        assert any("has been sent" in t and PREFERENCE_OFF.message in t for t in toasts), toasts


@SIDE_PANES
async def test_no_warning_when_it_will_arrive_and_the_dedupe_window_is_said(
    live_server: LiveServer, size: tuple[int, int]
) -> None:
    app = host(live_server)
    async with app.run_test(size=size) as pilot:
        await opened(pilot)
        await settle(pilot)
        form = screen(app)
        assert form.query_one("#compose-warnings", StatusLine).text == ""
        assert "within a minute" in str(form.query_one("#compose-dedupe").render())
