"""The demo server (a child process with its own runtime file) and the local owner of the embedded default."""

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


def _users(db: Path) -> list[dict[str, object]]:
    done = subprocess.run(
        embedded.server_command("users", "list", "--db", str(db)), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_first_run_creates_owner_and_private_token(dirs: Path) -> None:
    db, token_file = dirs / "data" / "inbox.db", dirs / "data" / "token"
    token = embedded.ensure_local_owner(db, token_file)
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert token_file.read_text().strip() == token
    [user] = _users(db)
    assert user["username"] == embedded.local_username() and user["roles"] == ["owner"]
    # Second run: same database, same token, same user.
    assert embedded.ensure_local_owner(db, token_file) == token
    assert _users(db) == [user]


def test_a_lost_database_beside_its_token_is_an_error(dirs: Path) -> None:
    db, token_file = dirs / "data" / "inbox.db", dirs / "data" / "token"
    embedded.ensure_local_owner(db, token_file)
    for path in (dirs / "data").glob("inbox.db*"):
        path.unlink()
    with pytest.raises(embedded.EmbeddedError, match=r"is missing, but its token file .* is still there"):
        embedded.ensure_local_owner(db, token_file)
    assert not db.exists()  # nothing was created in its place
    token_file.unlink()  # "start afresh by removing" the token file: a new owner
    assert embedded.ensure_local_owner(db, token_file)
    assert len(_users(db)) == 1


def test_lost_token_file_gets_a_new_token_for_the_same_user(dirs: Path) -> None:
    db, token_file = dirs / "data" / "inbox.db", dirs / "data" / "token"
    first = embedded.ensure_local_owner(db, token_file)
    users = _users(db)
    token_file.unlink()
    second = embedded.ensure_local_owner(db, token_file)
    assert second != first and _users(db) == users


def test_publish_share_and_unpublish(dirs: Path) -> None:
    owner = embedded.embedded_server(long_lived=True)
    try:
        runtime = dirs / "state" / "demo.json"
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
        runtime = dirs / "state" / "demo.json"
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
    blocker = dirs / "state"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the data directory should be")
    with pytest.raises(embedded.EmbeddedError, match="cannot start the embedded server: File exists"):
        embedded.start_embedded(demo=True)
