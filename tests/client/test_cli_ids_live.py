"""Ids as people type them (issue 11): notification id prefixes and template names, against a real server."""

from __future__ import annotations

import json
from collections import Counter

from inbox_tui.api.client import CoderClient
from inbox_tui.api.models import CUSTOM_TEMPLATE_ID, InboxNotification
from tests.client.test_cli_live import Watch, as_user, cli, env, wait_for
from tests.live_server import LiveServer

__all__ = ["env"]  # the fixture, imported for the tests below

COUNT = 30  # more than one page (25), and enough ids that some first characters repeat


async def _inbox_of(server: LiveServer, token: str, count: int = COUNT) -> list[InboxNotification]:
    """Send `count` custom notifications and return the whole inbox once they have all arrived."""
    async with CoderClient(server.url, token) as client:
        for i in range(count):
            await client.send_custom(f"Note {i}", f"body {i}")

        async def everything() -> list[InboxNotification] | None:
            every = list((await client.list_inbox()).notifications)
            if len(every) == 25:
                every += (await client.list_inbox(starting_before=every[-1].id)).notifications
            return every if len(every) >= count else None

        return await wait_for(everything)


async def _read_at(server: LiveServer, token: str) -> dict[str, bool]:
    async with CoderClient(server.url, token) as client:
        first = await client.list_inbox()
        older = await client.list_inbox(starting_before=first.notifications[-1].id)
        return {n.id: n.is_read for n in (*first.notifications, *older.notifications)}


async def test_read_and_unread_take_a_unique_prefix_from_any_page(live_server: LiveServer, env: dict[str, str]) -> None:
    member = as_user(live_server, live_server.member_token)
    inbox = await _inbox_of(live_server, live_server.member_token)
    oldest = inbox[-1]  # on the second page
    newest = inbox[0]
    done = cli(env, "read", oldest.id[:8], newest.id[:8].upper(), *member)
    assert done.returncode == 0, done.stderr
    assert f"Notification {oldest.id} marked as read" in done.stderr
    assert f"Notification {newest.id} marked as read" in done.stderr
    states = await _read_at(live_server, live_server.member_token)
    assert states[oldest.id] and states[newest.id]
    assert sum(states.values()) == 2
    again = cli(env, "unread", oldest.id[:13], *member)  # a prefix with its dash
    assert again.returncode == 0, again.stderr
    assert not (await _read_at(live_server, live_server.member_token))[oldest.id]


async def test_an_ambiguous_prefix_lists_the_candidates_and_changes_nothing(
    live_server: LiveServer, env: dict[str, str]
) -> None:
    member = as_user(live_server, live_server.member_token)
    inbox = await _inbox_of(live_server, live_server.member_token)
    first_chars = Counter(n.id[0] for n in inbox)
    shared, times = first_chars.most_common(1)[0]
    assert times >= 2  # 30 ids, 16 possible first characters
    unique = inbox[-1]
    done = cli(env, "read", unique.id[:8], shared, *member)
    assert done.returncode == 1
    assert done.stdout == ""
    assert f'"{shared}" is the start of {times} notification ids; type more of it:' in done.stderr
    for notification in inbox:
        assert (notification.id in done.stderr) == notification.id.startswith(shared)
    assert "unread  Note " in done.stderr
    # Resolution comes first: the unique id given beside the ambiguous one is not marked either.
    assert not any((await _read_at(live_server, live_server.member_token)).values())


async def test_a_prefix_that_matches_nothing_or_is_not_hex_is_a_clear_error(
    live_server: LiveServer, env: dict[str, str]
) -> None:
    member = as_user(live_server, live_server.member_token)
    inbox = await _inbox_of(live_server, live_server.member_token, count=3)
    unused = next(p for p in (f"{i:04x}" for i in range(0x10000)) if not any(n.id.startswith(p) for n in inbox))
    none = cli(env, "read", unused, *member)
    assert (none.returncode, none.stdout) == (1, "")
    assert none.stderr == f'no notification id starts with "{unused}"\n'
    bad = cli(env, "unread", "xyz", *member)
    assert (bad.returncode, bad.stderr) == (1, '"xyz" is not a notification id or the start of one (hex digits)\n')
    # A whole id is passed to the server as it is: its 404 is the Coder CLI's error, as before.
    whole = cli(env, "read", "00000000-0000-4000-8000-00000000dead", *member)
    assert whole.returncode == 1
    assert "unexpected status code 404" in whole.stderr


async def test_list_before_takes_a_prefix(live_server: LiveServer, env: dict[str, str]) -> None:
    member = as_user(live_server, live_server.member_token)
    inbox = await _inbox_of(live_server, live_server.member_token, count=5)
    done = cli(env, "list", "--before", inbox[1].id[:10], "--json", *member)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count('"id"') == 3
    assert inbox[2].id in done.stdout and inbox[1].id not in done.stdout


async def test_template_names_are_taken_wherever_a_template_id_is(live_server: LiveServer, env: dict[str, str]) -> None:
    owner = as_user(live_server, live_server.owner_token)
    await _inbox_of(live_server, live_server.owner_token, count=2)
    async with CoderClient(live_server.url, live_server.owner_token) as client:
        await client.send_test()
        await wait_for(lambda: _has_test(client))
    by_name = cli(env, "list", "--template", "custom  NOTIFICATION", "--json", *owner)
    assert by_name.returncode == 0, by_name.stderr
    assert by_name.stdout.count(f'"template_id": "{CUSTOM_TEMPLATE_ID}"') == 2
    assert "A test notification" not in by_name.stdout
    both = cli(env, "list", "--template", "Custom Notification,troubleshooting notification", *owner)
    assert both.returncode == 0, both.stderr
    assert len(both.stdout.splitlines()) == 3
    by_prefix = cli(env, "list", "--template", CUSTOM_TEMPLATE_ID[:8], *owner)
    assert len(by_prefix.stdout.splitlines()) == 2
    unknown = cli(env, "list", "--template", "No Such Template", *owner)
    assert (unknown.returncode, unknown.stdout) == (1, "")
    assert unknown.stderr == 'no template is named "No Such Template" (`inbox-tui templates` lists them)\n'


async def _has_test(client: CoderClient) -> bool | None:
    page = await client.list_inbox()
    return True if any(n.title == "A test notification" for n in page.notifications) else None


async def test_templates_lists_every_template_with_enabled_for_me(live_server: LiveServer, env: dict[str, str]) -> None:
    member = as_user(live_server, live_server.member_token)
    async with CoderClient(live_server.url, live_server.member_token) as client:
        every = await client.templates()
        await client.update_preferences({CUSTOM_TEMPLATE_ID: True})
    off_by_default = [t for t in every if not t.enabled_by_default]
    table = cli(env, "templates", *member)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "GROUP", "KIND", "ENABLED"]
    assert len(lines) == 1 + len(every)
    custom = next(line for line in lines if line.startswith(CUSTOM_TEMPLATE_ID))
    assert "Custom Notification" in custom and custom.split()[-2:] == ["custom", "no"]
    as_json = cli(env, "templates", "--json", *member)
    records = {r["id"]: r for r in json.loads(as_json.stdout)}
    assert len(records) == len(every)
    assert records[CUSTOM_TEMPLATE_ID]["enabled"] is False
    assert records[CUSTOM_TEMPLATE_ID]["kind"] == "custom"
    for template in off_by_default:
        assert records[template.id]["enabled"] is False
    enabled = [r for r in records.values() if r["enabled"]]
    assert len(enabled) == len(every) - 1 - len(off_by_default)
    assert set(records[CUSTOM_TEMPLATE_ID]) == {
        "id",
        "name",
        "group",
        "kind",
        "method",
        "enabled_by_default",
        "enabled",
    }


def test_watch_takes_template_names_and_refuses_unknown_ones(live_server: LiveServer, env: dict[str, str]) -> None:
    done = cli(env, "watch", "--template", "Custom Notification,Nope", *as_user(live_server, live_server.member_token))
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == 'no template is named "Nope" (`inbox-tui templates` lists them)\n'


async def test_watch_by_template_name_prints_only_that_template(live_server: LiveServer, env: dict[str, str]) -> None:
    owner = as_user(live_server, live_server.owner_token)
    watch = await Watch.start(env, "--json", "--template", "custom notification", *owner)
    try:
        await watch.stderr_until("Watching for new notifications")
        async with CoderClient(live_server.url, live_server.owner_token) as client:
            await client.send_test()
            await wait_for(lambda: _has_test(client))
            await client.send_custom("Only this", "one")
        event = json.loads(await watch.line())
        assert event["notification"]["title"] == "Only this"
        assert event["notification"]["template_id"] == CUSTOM_TEMPLATE_ID
        assert await watch.interrupt() == 130
    finally:
        await watch.close()
