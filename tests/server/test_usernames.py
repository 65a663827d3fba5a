"""`inbox-server users create` takes only usernames Coder accepts (issue 12, section 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.usernames import username_problem
from tests.live_server import LiveServer

REFUSED = [
    "",
    "me",
    "ME",
    "a" * 33,
    "x" * 300,
    "bad\x1b]52;c;aGk=\x07name",
    "bad\x1b[2Jname",
    "-lead",
    "trail-",
    "dou--ble",
    "under_score",
    "dot.ted",
    "with space",
    "ünïcode",
    "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9",
    "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
]
ACCEPTED = ["a", "alice", "Alice-2", "z" * 32, "x-y-z", "42"]


@pytest.mark.parametrize("name", REFUSED)
def test_refused(name: str) -> None:
    assert username_problem(name)


@pytest.mark.parametrize("name", ACCEPTED)
def test_accepted(name: str) -> None:
    assert username_problem(name) == ""


def test_users_create_exits_non_zero_with_a_clear_message(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    for name in ("me", "x" * 300, "bad\x1b[2Jname", "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9", "dou--ble"):
        done = server.cli("users", "create", "--username", name)
        assert done.returncode != 0, name
        assert "invalid --username" in done.stderr, done.stderr
        assert "\x1b" not in done.stderr, done.stderr  # the name is quoted with its escapes spelled out
        assert done.stdout == "", done.stdout  # no token printed
    assert server.cli("users", "list").stdout == ""
    assert server.cli("users", "create", "--username", "z" * 32).returncode == 0
