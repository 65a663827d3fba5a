"""The embedded default: the bundled server as a child process, its token, and the runtime file."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from inbox_tui import config as cfg
from inbox_tui import embedded
from inbox_tui.api.client import CoderClient


@pytest.fixture(autouse=True)
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(cfg.ENV_DATA_DIR, str(tmp_path / "data"))
    monkeypatch.setenv(cfg.ENV_STATE_DIR, str(tmp_path / "state"))
    return tmp_path


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.mark.parametrize(
    ("login", "expected"),
    [("alice", "alice"), ("John.Doe@Corp", "john-doe-corp"), ("__", "owner"), ("", "owner"), ("a" * 40, "a" * 32)],
)
def test_local_username_is_coder_valid(monkeypatch: pytest.MonkeyPatch, login: str, expected: str) -> None:
    monkeypatch.setattr(embedded.getpass, "getuser", lambda: login)
    assert embedded.local_username() == expected


async def test_first_run_creates_owner_and_private_token(dirs: Path) -> None:
    server = embedded.start_embedded()
    try:
        token_file = dirs / "data" / "token"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert token_file.read_text().strip() == server.token
        assert (dirs / "data" / "inbox.db").exists()
        async with CoderClient(server.url, server.token) as client:
            me = await client.me()
        assert me.is_owner and me.username == embedded.local_username()
    finally:
        server.stop()
    assert not embedded.pid_alive(server.pid)

    # Second run: same database, same token, same user.
    again = embedded.start_embedded()
    try:
        assert again.token == server.token
        async with CoderClient(again.url, again.token) as client:
            assert (await client.me()).id == me.id
    finally:
        again.stop()


async def test_lost_database_gets_a_new_owner_and_token(dirs: Path) -> None:
    first = embedded.start_embedded()
    first.stop()
    for path in (dirs / "data").glob("inbox.db*"):
        path.unlink()
    second = embedded.start_embedded()
    try:
        assert second.token != first.token
        async with CoderClient(second.url, second.token) as client:
            assert (await client.me()).is_owner
    finally:
        second.stop()


async def test_lost_token_file_gets_a_new_token_for_the_same_user(dirs: Path) -> None:
    first = embedded.start_embedded()
    async with CoderClient(first.url, first.token) as client:
        user_id = (await client.me()).id
    first.stop()
    (dirs / "data" / "token").unlink()
    second = embedded.start_embedded()
    try:
        async with CoderClient(second.url, second.token) as client:
            assert (await client.me()).id == user_id
    finally:
        second.stop()


def test_publish_share_and_unpublish(dirs: Path) -> None:
    owner = embedded.embedded_server(long_lived=True)
    try:
        runtime = dirs / "state" / "embedded.json"
        assert stat.S_IMODE(runtime.stat().st_mode) == 0o600
        assert json.loads(runtime.read_text())["owner_pid"] == os.getpid()
        shared = embedded.embedded_server()
        assert (shared.url, shared.pid, shared.owned) == (owner.url, owner.pid, False)
        shared.stop()  # a shared server is left running
        assert embedded.pid_alive(owner.pid) and runtime.exists()
    finally:
        owner.stop()
    assert not runtime.exists() and not embedded.pid_alive(owner.pid)


def test_server_whose_owner_died_is_adopted(dirs: Path) -> None:
    orphan = embedded.start_embedded()
    try:
        orphan.publish()
        runtime = dirs / "state" / "embedded.json"
        data = json.loads(runtime.read_text())
        data["owner_pid"] = dead_pid()
        runtime.write_text(json.dumps(data))
        adopter = embedded.embedded_server(long_lived=True)
        assert adopter.owned and adopter.pid == orphan.pid
        assert json.loads(runtime.read_text())["owner_pid"] == os.getpid()
        adopter.stop()
        assert not embedded.pid_alive(orphan.pid)
    finally:
        orphan.stop()


def test_stale_runtime_file_is_removed(dirs: Path) -> None:
    runtime = embedded.runtime_path()
    cfg.write_private(runtime, json.dumps({"url": "http://127.0.0.1:9", "token": "t", "pid": dead_pid()}))
    assert embedded.find_running() is None
    assert not runtime.exists()


def test_live_pid_that_does_not_answer_is_not_used_nor_deleted(dirs: Path) -> None:
    runtime = embedded.runtime_path()
    cfg.write_private(runtime, json.dumps({"url": "http://127.0.0.1:9", "token": "t", "pid": os.getpid()}))
    assert embedded.find_running() is None
    assert runtime.exists()


def test_garbage_runtime_file_is_ignored(dirs: Path) -> None:
    cfg.write_private(embedded.runtime_path(), "{not json")
    assert embedded.read_runtime() is None


def test_demo_uses_a_throwaway_database(dirs: Path) -> None:
    demo = embedded.embedded_server(demo=True, long_lived=True)
    temp_dir = demo.temp_dir
    try:
        assert temp_dir is not None and demo.db_path.parent == temp_dir
        assert (dirs / "state" / "demo.json").exists()
        assert not (dirs / "data").exists()
    finally:
        demo.stop()
    assert not temp_dir.exists()
    assert not (dirs / "state" / "demo.json").exists()


def test_a_server_that_cannot_start_is_reported(dirs: Path) -> None:
    blocker = dirs / "data"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the data directory should be")
    with pytest.raises(embedded.EmbeddedError, match="cannot start the embedded server: File exists"):
        embedded.start_embedded()
