"""`inbox-server` admin commands against a real database."""

from __future__ import annotations

import json
from pathlib import Path

from tests.live_server import LiveServer
from tests.server.helpers import client, inbox, wait_for

WS_DELETED = "f517da0b-cdc9-410f-ab89-a86107c420ed"


def test_users_and_tokens(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    token = server.create_user("dana", "owner")
    key_id, secret = token.split("-")
    assert len(key_id) == 10 and len(secret) == 22
    listed = [json.loads(line) for line in server.cli("users", "list").stdout.splitlines()]
    assert listed[0]["username"] == "dana" and listed[0]["roles"] == ["owner"]
    duplicate = server.cli("users", "create", "--username", "dana")
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    assert server.cli("tokens", "create", "--user", "nobody").returncode == 1
    second = server.cli("tokens", "create", "--user", "dana")
    assert second.returncode == 0 and second.stdout.strip() != token
    assert server.cli("tokens", "revoke", "zzzzzzzzzz").returncode == 1
    assert server.cli("users", "delete", "--username", "dana").returncode == 0
    assert server.cli("users", "list").stdout == ""


def test_bad_arguments_exit_non_zero(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    server.create_user("dana")
    cases = [
        ("notify", "--user", "dana", "--template", "No Such Template"),
        ("notify", "--user", "ghost", "--template", "Workspace Deleted"),
        ("notify", "--user", "dana", "--template", "Workspace Deleted", "--label", "novalue"),
        ("notify", "--user", "dana", "--template", "Workspace Deleted", "--data", "{bad"),
        ("notify", "--user", "dana", "--template", "Workspace Deleted", "--data", "[1]"),
        ("notify", "--user", "dana", "--template", "Workspace Deleted", "--target", "nope"),
    ]
    for args in cases:
        done = server.cli(*args)
        assert done.returncode != 0, args
        assert done.stderr.strip(), args


async def test_notify_is_delivered_with_labels_data_and_targets(live_server: LiveServer) -> None:
    target = "11111111-2222-3333-4444-555555555555"
    done = live_server.cli(
        "notify", "--user", "member", "--template", WS_DELETED,
        "--label", "name=api-dev", "--label", "reason=dormant", "--label", "initiator=alice",
        "--target", target,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr

    async def arrived() -> list[dict[str, object]] | None:
        items: list[dict[str, object]] = (await inbox(live_server, live_server.member_token))["notifications"]
        return items or None

    (item,) = await wait_for(arrived)
    assert item["title"] == 'Workspace "api-dev" deleted'
    assert item["content"] == (
        'Your workspace **api-dev** was deleted.\n\nThe specified reason was "**dormant (alice)**".'
    )
    assert item["targets"] == [target]
    assert item["actions"] == [
        {"label": "View workspaces", "url": f"{live_server.url}/workspaces"},
        {"label": "View templates", "url": f"{live_server.url}/templates"},
    ]
    async with client(live_server, live_server.member_token) as c:
        filtered = (await c.get("/notifications/inbox", params={"targets": target})).json()
    assert len(filtered["notifications"]) == 1
