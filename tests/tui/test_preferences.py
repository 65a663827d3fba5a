"""The preferences screen against a real inbox-server: opting in, group switches, merges, failures, looks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static, Switch

from inbox_tui.api.client import CoderClient
from inbox_tui.api.models import NotificationPreference, NotificationTemplate, User
from inbox_tui.screens.confirm import UnsavedChangesScreen
from inbox_tui.screens.preferences import (
    GroupSwitch,
    PreferencesModel,
    PreferencesScreen,
    TemplateSwitch,
    group_visible,
)
from tests.live_server import LiveServer
from tests.tui.screen_host import ScreenHost, settle, wait_for
from tests.tui.screen_text import screen_lines

SIZE = (120, 50)
WORKSPACE_CREATED = "281fdf73-c6d6-4cbb-8ff5-888baf8a2fff"  # enabled_by_default false
WORKSPACE_MANUALLY_UPDATED = "d089fe7b-d5c5-4c0c-aaf5-689859f7d392"  # enabled_by_default false
WORKSPACE_DELETED = "f517da0b-cdc9-410f-ab89-a86107c420ed"
WORKSPACE_OUT_OF_DISK = "f047f6a3-5713-40f7-85aa-0394cce9fa3a"
TASK_WORKING = "bd4b7168-d05e-4e19-ad0f-3593b77aa90f"  # enabled_by_default false
CUSTOM = "39b1e189-c857-4b0c-877a-511144c18516"

SnapCompare = Callable[..., bool]


@pytest.fixture
async def member(live_server: LiveServer) -> AsyncIterator[CoderClient]:
    """The member's API client, to look at the server's side."""
    async with CoderClient(live_server.url, live_server.member_token) as client:
        yield client


def host(server: LiveServer, token: str | None = None, user: User | None = None) -> ScreenHost:
    return ScreenHost(server.url, token or server.member_token, lambda client: PreferencesScreen(client, user))


def screen(app: ScreenHost) -> PreferencesScreen:
    assert isinstance(app.screen_under_test, PreferencesScreen)
    return app.screen_under_test


def switch(app: ScreenHost, template_id: str) -> TemplateSwitch:
    return screen(app).query_one(f"#t-{template_id}", TemplateSwitch)


def group_switch(app: ScreenHost, name: str) -> GroupSwitch:
    for item in screen(app).query(GroupSwitch):
        if item.group == name:
            return item
    raise AssertionError(f"no group {name!r}")


def note(app: ScreenHost, template_id: str) -> str:
    return str(screen(app).query_one(f"#n-{template_id}", Static).render())


def group_names(app: ScreenHost) -> list[str]:
    return [item.group for item in screen(app).query(GroupSwitch)]


async def flip(pilot: Pilot[Any], widget: Switch) -> None:
    """Focus a switch and press space, as a user would."""
    widget.focus()
    await pilot.pause()
    await pilot.press("space")
    await pilot.pause()


async def loaded(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    assert isinstance(pilot.app, ScreenHost)
    await wait_for(pilot, lambda: screen(pilot.app).model is not None, "preferences to load")  # type: ignore[arg-type]
    await settle(pilot)


# ----- the rule, the groups, the model (no server) -------------------------------------------------


def template(tid: str, group: str, enabled_by_default: bool = True, name: str = "") -> NotificationTemplate:
    return NotificationTemplate(
        id=tid,
        name=name or tid,
        title_template="",
        body_template="",
        actions=(),
        group=group,
        method="",
        kind="system",
        enabled_by_default=enabled_by_default,
    )


def test_group_visibility_follows_coder_web_ui() -> None:
    owner = User(id="1", username="o", roles=("owner",))
    member = User(id="2", username="m", roles=())
    template_admin = User(id="3", username="t", roles=("template-admin",))
    user_admin = User(id="4", username="u", roles=("user-admin",))
    always = ["Workspace Events", "Chat Events", "Custom Events", "AI Cost Control Events", "Task Events", "New"]
    for group in always:
        assert all(group_visible(group, u) for u in (owner, member, template_admin, user_admin)), group
    assert not any(group_visible("Notification Events", u) for u in (owner, member, template_admin, user_admin))
    assert group_visible("Template Events", owner) and group_visible("Template Events", template_admin)
    assert not group_visible("Template Events", member) and not group_visible("Template Events", user_admin)
    for group in ("User Events", "AI Cost Control Admin Events"):
        assert group_visible(group, owner) and group_visible(group, user_admin)
        assert not group_visible(group, member) and not group_visible(group, template_admin)


def test_model_only_sends_what_differs_from_the_server() -> None:
    model = PreferencesModel(
        templates=[template("a", "G", False), template("b", "G"), template("c", "G")],
        saved={"c": NotificationPreference(id="c", disabled=True, updated_at=None)},
    )
    assert [model.enabled(t) for t in "abc"] == [False, True, False]  # row wins, else the default
    model.set_enabled("a", True)
    model.set_enabled("b", False)
    model.set_enabled("b", True)  # back to the server's state: no change
    assert model.changes() == {"a": False}
    assert model.group_counts(model.templates) == (2, 3)
    model.save_failed(model.changes(), "boom")
    assert model.errors == {"a": "boom"} and model.enabled("a")
    rows = {
        "a": NotificationPreference(id="a", disabled=False, updated_at=None),
        "c": NotificationPreference(id="c", disabled=True, updated_at=None),
    }
    model.saved_ok(rows, {"a": False})
    assert not model.dirty and not model.errors and model.enabled("a")


def test_model_groups_sorted_and_ungrouped_named() -> None:
    model = PreferencesModel(templates=[template("a", "b group"), template("b", ""), template("c", "A group")])
    assert [name for name, _ in model.groups()] == ["A group", "b group", "Other"]


# ----- against the server -------------------------------------------------------------------------


async def test_opting_into_a_default_off_template(live_server: LiveServer, member: CoderClient) -> None:
    assert await member.preferences() == {}
    app = host(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        created = switch(app, WORKSPACE_CREATED)
        assert created.value is False  # no row, enabled_by_default false
        assert switch(app, WORKSPACE_DELETED).value is True
        await flip(pilot, created)
        assert created.value is True and "unsaved" in note(app, WORKSPACE_CREATED)
        assert screen(app).model is not None and screen(app).model.changes() == {WORKSPACE_CREATED: False}  # type: ignore[union-attr]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert note(app, WORKSPACE_CREATED) == ""
        assert "Saved 1 change" in screen(app).status.text
    rows = await member.preferences()
    assert set(rows) == {WORKSPACE_CREATED}
    assert rows[WORKSPACE_CREATED].disabled is False


async def test_group_switch_turns_a_mixed_group_on_then_off(live_server: LiveServer, member: CoderClient) -> None:
    app = host(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        group = group_switch(app, "Workspace Events")
        assert group.value is False and group.has_class("-mixed")  # two of eleven are off by default
        await flip(pilot, group)
        assert group.value is True and not group.has_class("-mixed")
        assert all(s.value for s in screen(app).query(TemplateSwitch) if s.template_id in workspace_ids(app))
        # Only the two that were off differ from the server, so only they are sent.
        assert screen(app).model.changes() == {WORKSPACE_CREATED: False, WORKSPACE_MANUALLY_UPDATED: False}  # type: ignore[union-attr]
        await pilot.press("ctrl+s")
        await settle(pilot)
        rows = await member.preferences()
        assert {tid: row.disabled for tid, row in rows.items()} == {
            WORKSPACE_CREATED: False,
            WORKSPACE_MANUALLY_UPDATED: False,
        }
        await flip(pilot, group)
        assert group.value is False and not group.has_class("-mixed")
        assert not any(s.value for s in screen(app).query(TemplateSwitch) if s.template_id in workspace_ids(app))
        await pilot.press("ctrl+s")
        await settle(pilot)
    rows = await member.preferences()
    assert len(rows) == 11 and all(row.disabled for row in rows.values())


def workspace_ids(app: ScreenHost) -> set[str]:
    model = screen(app).model
    assert model is not None
    return {t.id for t in model.templates if t.group == "Workspace Events"}


async def test_only_changed_templates_are_sent(live_server: LiveServer, member: CoderClient) -> None:
    before = await member.update_preferences({WORKSPACE_OUT_OF_DISK: True})
    stamp = before[WORKSPACE_OUT_OF_DISK].updated_at
    app = host(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        assert switch(app, WORKSPACE_OUT_OF_DISK).value is False  # the explicit row wins
        await flip(pilot, switch(app, TASK_WORKING))
        await flip(pilot, switch(app, WORKSPACE_DELETED))
        await flip(pilot, switch(app, WORKSPACE_DELETED))  # and back: nothing to send for it
        await pilot.press("ctrl+s")
        await settle(pilot)
    after = await member.preferences()
    assert set(after) == {WORKSPACE_OUT_OF_DISK, TASK_WORKING}
    assert after[TASK_WORKING].disabled is False
    # The untouched row was not re-sent (its timestamp would have moved).
    assert after[WORKSPACE_OUT_OF_DISK].updated_at == stamp and after[WORKSPACE_OUT_OF_DISK].disabled


async def test_failed_save_keeps_the_edits_and_says_why(live_server: LiveServer, member: CoderClient) -> None:
    app = host(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await flip(pilot, switch(app, WORKSPACE_CREATED))
        await flip(pilot, switch(app, CUSTOM))
        live_server.stop()
        await pilot.press("ctrl+s")
        await settle(pilot)
        status = screen(app).status
        assert status.kind == "error" and "connection refused" in status.text and "kept" in status.text
        assert "not saved" in note(app, WORKSPACE_CREATED) and "not saved" in note(app, CUSTOM)
        assert note(app, WORKSPACE_DELETED) == ""
        assert switch(app, WORKSPACE_CREATED).value is True and switch(app, CUSTOM).value is False
        live_server.start()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert note(app, WORKSPACE_CREATED) == "" and status.kind == "success"
    rows = await member.preferences()
    assert {tid: row.disabled for tid, row in rows.items()} == {WORKSPACE_CREATED: False, CUSTOM: True}


async def test_member_and_owner_see_coder_groups(live_server: LiveServer) -> None:
    app = host(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        names = group_names(app)
    assert names == ["AI Cost Control Events", "Chat Events", "Custom Events", "Task Events", "Workspace Events"]
    app = host(live_server, live_server.owner_token)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        names = group_names(app)
    assert "Notification Events" not in names
    assert {"Template Events", "User Events", "AI Cost Control Admin Events", "Task Events"} <= set(names)


async def test_each_template_shows_its_method(live_server: LiveServer) -> None:
    async with CoderClient(live_server.url, live_server.owner_token) as owner:
        await owner.set_template_method(WORKSPACE_DELETED, "webhook")
    app = host(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        methods = {
            str(row.query_one(TemplateSwitch).template_id): " ".join(
                text
                for part in (".prefs-method", ".prefs-default")
                if (text := str(row.query_one(part, Static).render()))
            )
            for row in screen(app).query(".prefs-row")
        }
    assert methods[WORKSPACE_DELETED] == "webhook"
    assert methods[WORKSPACE_CREATED] == "smtp (default)"


async def test_leaving_with_unsaved_changes_asks(live_server: LiveServer, member: CoderClient) -> None:
    app = host(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await flip(pilot, switch(app, WORKSPACE_CREATED))
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, UnsavedChangesScreen)
        await pilot.press("n")  # stay
        await pilot.pause()
        assert app.screen is screen(app) and switch(app, WORKSPACE_CREATED).value is True
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("s")  # save, then leave
        await settle(pilot)
        await wait_for(pilot, lambda: not isinstance(app.screen, PreferencesScreen), "the screen to close")
    assert (await member.preferences())[WORKSPACE_CREATED].disabled is False


async def test_discarding_sends_nothing(live_server: LiveServer, member: CoderClient) -> None:
    app = host(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await flip(pilot, switch(app, WORKSPACE_CREATED))
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("d")
        await settle(pilot)
        assert not isinstance(app.screen, PreferencesScreen | UnsavedChangesScreen)
    assert await member.preferences() == {}


async def test_screen_finds_the_user_and_client_itself(live_server: LiveServer) -> None:
    # As the inbox app opens it: no arguments, the client from `app.client`, the user from /users/me.
    app = ScreenHost(live_server.url, live_server.owner_token, lambda client: PreferencesScreen())
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        assert screen(app).user is not None and screen(app).user.is_owner  # type: ignore[union-attr]
        assert "Template Events" in group_names(app)


async def test_keys_move_between_switches(live_server: LiveServer) -> None:
    app = host(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        first = app.focused
        assert isinstance(first, GroupSwitch)
        await pilot.press("j")
        assert isinstance(app.focused, TemplateSwitch)
        await pilot.press("k")
        assert app.focused is first
        await pilot.press("down", "down", "down")  # past the two templates of the first group
        assert isinstance(app.focused, GroupSwitch) and app.focused is not first


# ----- looks ----------------------------------------------------------------------------------------


def test_snapshot_member_preferences(snap_compare: SnapCompare, live_server: LiveServer) -> None:
    async def edit(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        assert isinstance(pilot.app, ScreenHost)
        await flip(pilot, switch(pilot.app, WORKSPACE_CREATED))
        await flip(pilot, switch(pilot.app, TASK_WORKING))
        switch(pilot.app, WORKSPACE_CREATED).focus()
        await pilot.pause()

    assert snap_compare(host(live_server), terminal_size=(110, 36), run_before=edit)


async def test_s_opens_it_from_the_inbox_app(live_server: LiveServer) -> None:
    from inbox_tui.app import InboxApp

    app = InboxApp(CoderClient(live_server.url, live_server.member_token), owns_client=True, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, PreferencesScreen), "the preferences screen")
        prefs = app.screen
        assert isinstance(prefs, PreferencesScreen)
        await wait_for(pilot, lambda: prefs.model is not None, "preferences to load")
        await pilot.press("q")  # closes the screen, not the app
        await pilot.pause()
        assert not isinstance(app.screen, PreferencesScreen) and app.is_running


@pytest.mark.parametrize("size", [(80, 24), (60, 20), (40, 15)], ids=["80x24", "60x20", "40x15"])
async def test_rows_fit_a_side_pane_and_say_on_or_off(live_server: LiveServer, size: tuple[int, int]) -> None:
    """Names end in an ellipsis before the method column instead of running into it; state is text too."""
    app = host(live_server, live_server.owner_token)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        prefs = screen(app)
        prefs.query_one("#prefs-body").scroll_end(animate=False)  # the long "User Events" names
        await pilot.pause()
        lines = screen_lines(app)
        rows = [line for line in lines if "smtp" in line]
        if size[0] >= 60:
            assert rows, lines
            for line in rows:
                assert line[line.index("smtp") - 1] == " ", line  # a gap, not `AI Budget Limitsmtp`
        else:
            assert not rows, lines  # no room for the method column below 60 columns
        if size[0] <= 60:  # "User Approaching AI Budget Limit" and kin do not fit: cut, marked
            assert any("…" in line for line in lines if " on " in line or " off " in line), lines
        for item in prefs.query(TemplateSwitch):
            state = prefs.query_one(f"#s-{item.template_id}", Static)
            assert str(state.render()) == ("on" if item.value else "off")
