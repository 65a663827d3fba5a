"""Issue 12 section 4: the client's config, data and state directories are 0700 and what it writes there
0600, whatever the umask; ones an older version left open are tightened on start with a warning."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from inbox_tui import config
from inbox_tui.config import Config, save_config, save_token, secure_dirs
from inbox_tui.private_files import open_private
from inbox_tui.ui_state import UiState


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o000, 0o022], ids=["umask000", "umask022"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    found = {}
    for env, name in (
        (config.ENV_CONFIG_DIR, "config"),
        (config.ENV_DATA_DIR, "data"),
        (config.ENV_STATE_DIR, "state"),
    ):
        path = tmp_path / "home" / name / "inbox-tui"
        monkeypatch.setenv(env, str(path))
        found[name] = path
    return found


def test_files_and_directories_we_create_are_private(umask: int, dirs: dict[str, Path]) -> None:
    save_config(Config(url="https://coder.example.com"))
    save_token("abc-secret")
    UiState().save()
    with open_private(dirs["state"] / "server.log") as log:
        log.write(b"hello\n")
    with open_private(dirs["data"] / "sub" / "server.log", "wb") as log:
        log.write(b"hello\n")
    for path in (dirs["config"], dirs["state"], dirs["data"], dirs["data"] / "sub", dirs["config"].parent):
        assert mode(path) == 0o700, path
    for path in (
        dirs["config"] / "config.toml",
        dirs["config"] / "token",
        dirs["state"] / "ui-state.json",
        dirs["state"] / "server.log",
        dirs["data"] / "sub" / "server.log",
    ):
        assert mode(path) == 0o600, path


def test_existing_directories_and_files_are_tightened_on_start(
    dirs: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    for path in dirs.values():
        path.mkdir(parents=True)
        os.chmod(path, 0o755)
    db = dirs["data"] / "inbox.db"
    db.write_bytes(b"")
    os.chmod(db, 0o644)
    log = dirs["state"] / "server.log"
    log.write_bytes(b"")
    os.chmod(log, 0o666)
    with caplog.at_level(logging.WARNING):
        secure_dirs()
    assert all(mode(p) == 0o700 for p in dirs.values())
    assert mode(db) == 0o600 and mode(log) == 0o600
    assert str(db) in caplog.text and str(dirs["data"]) in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        secure_dirs()  # nothing left to say
    assert caplog.text == ""
    # An existing log opened for appending is tightened too.
    os.chmod(log, 0o644)
    with open_private(log) as handle:
        handle.write(b"x")
    assert mode(log) == 0o600
