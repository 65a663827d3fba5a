"""Where the shared local server's settings come from: the variable beats the config file beats the default."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from inbox_tui import config as cfg
from inbox_tui import local_server
from inbox_tui.embedded import EmbeddedError


@pytest.fixture(autouse=True)
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(cfg.ENV_CONFIG_DIR, str(tmp_path / "config"))
    monkeypatch.delenv(cfg.ENV_SERVER_IDLE_TIMEOUT, raising=False)
    monkeypatch.delenv(cfg.ENV_SERVER_TIMEOUT, raising=False)
    return tmp_path


def write_config(dirs: Path, text: str) -> None:
    (dirs / "config").mkdir(exist_ok=True)
    (dirs / "config" / "config.toml").write_text(text)


def test_idle_timeout_defaults_to_ten_minutes() -> None:
    assert local_server.idle_timeout() == 600.0


def test_idle_timeout_from_the_config_file(dirs: Path) -> None:
    write_config(dirs, "server_idle_timeout = 90\n")
    assert local_server.idle_timeout() == 90.0
    assert cfg.load_config().to_dict()["server_idle_timeout"] == 90


def test_the_variable_beats_the_config_file(dirs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(dirs, "server_idle_timeout = 90\n")
    monkeypatch.setenv(cfg.ENV_SERVER_IDLE_TIMEOUT, "0")
    assert local_server.idle_timeout() == 0.0


@pytest.mark.parametrize("value", ["-1", '"soon"', "true"])
def test_a_bad_idle_timeout_is_a_clear_error(dirs: Path, value: str) -> None:
    write_config(dirs, f"server_idle_timeout = {value}\n")
    with pytest.raises(EmbeddedError, match="server_idle_timeout"):
        local_server.idle_timeout()


def test_a_bad_variable_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cfg.ENV_SERVER_TIMEOUT, "a while")
    with pytest.raises(EmbeddedError, match="INBOX_TUI_SERVER_TIMEOUT must be a number of seconds"):
        local_server.start_timeout()


def test_a_runtime_dir_of_another_user_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a directory to another user needs root (CI and this workplace run as root)")
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 12345, 12345)
    monkeypatch.setenv(cfg.ENV_RUNTIME_DIR, str(theirs))
    with pytest.raises(EmbeddedError, match="is not a directory of yours"):
        local_server.runtime_dir()


def test_a_runtime_dir_others_can_enter_is_tightened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ours = tmp_path / "ours"
    ours.mkdir()
    ours.chmod(0o755)
    monkeypatch.setenv(cfg.ENV_RUNTIME_DIR, str(ours))
    assert local_server.runtime_dir() == ours
    assert ours.stat().st_mode & 0o777 == 0o700
