"""The config file, the token file and the directories (all pointed at temporary folders)."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from inbox_tui import config as cfg
from inbox_tui.ui_state import UiState


@pytest.fixture(autouse=True)
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, env in (
        ("config", cfg.ENV_CONFIG_DIR),
        ("data", cfg.ENV_DATA_DIR),
        ("state", cfg.ENV_STATE_DIR),
        ("coder", cfg.ENV_CODER_CONFIG_DIR),
    ):
        monkeypatch.setenv(env, str(tmp_path / name))
    return tmp_path


def test_directories_follow_environment(dirs: Path) -> None:
    assert cfg.config_dir() == dirs / "config"
    assert cfg.data_dir() == dirs / "data"
    assert cfg.state_dir() == dirs / "state"
    assert cfg.coder_config_dir() == dirs / "coder"
    assert cfg.config_path() == dirs / "config" / "config.toml"


@pytest.mark.skipif(sys.platform != "linux", reason="XDG layout")
def test_default_directories_without_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cfg.ENV_CONFIG_DIR)
    monkeypatch.delenv(cfg.ENV_CODER_CONFIG_DIR)
    monkeypatch.setenv("XDG_CONFIG_HOME", "/xdg")
    assert cfg.config_dir() == Path("/xdg/inbox-tui")
    assert cfg.coder_config_dir() == Path("/xdg/coderv2")


def test_missing_file_is_an_empty_config() -> None:
    config = cfg.load_config()
    assert config.url is None and config.alert == "bell" and config.keys == {}


def test_round_trip_keeps_unknown_keys(dirs: Path) -> None:
    path = cfg.config_path()
    path.parent.mkdir(parents=True)
    path.write_text(
        'url = "https://coder.example.com"\nalert = "osc9"\ntheme = "nord"\nfuture_option = 3\n'
        '[keys]\ntoggle_read = "x"\nquit = ["ctrl+q", "q"]\n[plugin]\nname = "p"\n'
    )
    config = cfg.load_config()
    assert config.url == "https://coder.example.com"
    assert config.alert == "osc9" and config.theme == "nord"
    assert config.keys == {"toggle_read": "x", "quit": "ctrl+q,q"}
    config.url = "https://other.example.com"
    cfg.save_config(config)
    again = cfg.load_config()
    assert again.url == "https://other.example.com"
    assert again.extra == {"future_option": 3, "plugin": {"name": "p"}}
    assert again.keys == config.keys


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("url = ", "invalid TOML"),
        ('alert = "loud"', "`alert` must be one of bell, osc9, osc777, command, off"),
        ("url = 3", "`url` must be a string"),
        ('keys = "x"', "`keys` must be a table"),
        ("[keys]\nquit = 1", "keys.quit must be a key such as"),
        ('[keys]\nquit = ["q", 2]', "keys.quit must be a key such as"),
        ('[keys]\nquit = ""', "keys.quit must be a key such as"),
    ],
)
def test_broken_config_is_a_clear_error(text: str, message: str) -> None:
    path = cfg.config_path()
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(cfg.ConfigError) as info:
        cfg.load_config()
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_token_file_is_private() -> None:
    assert cfg.load_token() is None
    path = cfg.save_token("  abc-def\n")
    assert cfg.load_token() == "abc-def"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert cfg.delete_token() and not cfg.delete_token()
    assert cfg.load_token() is None


def test_coder_cli_login_files(dirs: Path) -> None:
    coder = dirs / "coder"
    coder.mkdir()
    (coder / "url").write_text("https://dev.coder.com\n")
    (coder / "session").write_text("id-secret\n")
    login = cfg.load_coder_login()
    assert login.url == "https://dev.coder.com" and login.token == "id-secret"


def test_ui_state_round_trip_and_garbage() -> None:
    # The remembered UI state lives in the state dir the config module names.
    assert UiState.load() == UiState()
    UiState(theme="nord", unread_only=True).save()
    assert UiState.load() == UiState(theme="nord", unread_only=True)
    assert cfg.ui_state_path().is_file()
    cfg.ui_state_path().write_text("{not json")
    assert UiState.load() == UiState()


def test_settings_are_documented() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
    text = docs.read_text()
    for setting in (*cfg.SETTINGS, *cfg.ENVIRONMENT):
        assert f"`{setting.key}`" in text, f"{setting.key} is missing from docs/configuration.md"


@pytest.mark.parametrize(("key", "default"), [("terminal_title", True), ("mark_read_on_preview", False)])
def test_switches_take_booleans_only(tmp_path: Path, key: str, default: bool) -> None:
    path = tmp_path / "config.toml"
    assert getattr(cfg.load_config(path), key) is default
    path.write_text(f"{key} = {str(not default).lower()}\n", encoding="utf-8")
    loaded = cfg.load_config(path)
    assert getattr(loaded, key) is (not default)
    assert cfg.Config.from_dict(loaded.to_dict()) == loaded  # saved as written, and only when not the default
    assert key in loaded.to_dict()
    path.write_text(f'{key} = "false"\n', encoding="utf-8")
    with pytest.raises(cfg.ConfigError, match=f"`{key}` must be true or false"):
        cfg.load_config(path)
