"""Connection resolution order: flags, environment, our config, the Coder CLI's login, embedded default."""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox_tui import config as cfg
from inbox_tui.connection import (
    SOURCE_CODER_CLI,
    SOURCE_CONFIG,
    SOURCE_ENV,
    SOURCE_FLAGS,
    ResolveError,
    find_explicit,
    resolve,
)


@pytest.fixture(autouse=True)
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, env in (
        ("config", cfg.ENV_CONFIG_DIR),
        ("data", cfg.ENV_DATA_DIR),
        ("state", cfg.ENV_STATE_DIR),
        ("coder", cfg.ENV_CODER_CONFIG_DIR),
    ):
        monkeypatch.setenv(env, str(tmp_path / name))
    monkeypatch.delenv(cfg.ENV_CODER_URL, raising=False)
    monkeypatch.delenv(cfg.ENV_CODER_TOKEN, raising=False)
    return tmp_path


def save_ours(url: str, token: str) -> None:
    config = cfg.load_config()
    config.url = url
    cfg.save_config(config)
    cfg.save_token(token)


def save_coder(dirs: Path, url: str, token: str) -> None:
    (dirs / "coder").mkdir(exist_ok=True)
    (dirs / "coder" / "url").write_text(url + "\n")
    (dirs / "coder" / "session").write_text(token + "\n")


ENV = {cfg.ENV_CODER_URL: "https://env.example.com", cfg.ENV_CODER_TOKEN: "env-token"}


def test_flags_beat_everything(dirs: Path) -> None:
    save_ours("https://ours.example.com", "ours-token")
    save_coder(dirs, "https://coder.example.com", "coder-token")
    conn = resolve("https://flag.example.com/", "flag-token", env=ENV)
    assert (conn.url, conn.token, conn.source) == ("https://flag.example.com", "flag-token", SOURCE_FLAGS)
    assert conn.embedded is None


def test_environment_beats_config_and_coder_cli(dirs: Path) -> None:
    save_ours("https://ours.example.com", "ours-token")
    save_coder(dirs, "https://coder.example.com", "coder-token")
    conn = resolve(env=ENV)
    assert (conn.url, conn.token, conn.source) == ("https://env.example.com", "env-token", SOURCE_ENV)


def test_our_config_beats_coder_cli(dirs: Path) -> None:
    save_ours("https://ours.example.com", "ours-token")
    save_coder(dirs, "https://coder.example.com", "coder-token")
    conn = resolve(env={})
    assert (conn.url, conn.token, conn.source) == ("https://ours.example.com", "ours-token", SOURCE_CONFIG)


def test_coder_cli_login_is_used_last(dirs: Path) -> None:
    save_coder(dirs, "https://coder.example.com", "coder-token")
    conn = resolve(env={})
    assert (conn.url, conn.token, conn.source) == ("https://coder.example.com", "coder-token", SOURCE_CODER_CLI)


def test_flag_url_uses_saved_token_only_for_the_same_url(dirs: Path) -> None:
    save_ours("https://ours.example.com", "ours-token")
    save_coder(dirs, "https://coder.example.com", "coder-token")
    same = find_explicit("https://ours.example.com/", None, env={})
    assert same.token == "ours-token" and same.token_source == SOURCE_CONFIG
    coder = find_explicit("https://coder.example.com", None, env={})
    assert coder.token == "coder-token" and coder.token_source == SOURCE_CODER_CLI
    with pytest.raises(ResolveError) as info:
        resolve("https://elsewhere.example.com", None, env={})
    assert str(info.value) == (
        "no session token for https://elsewhere.example.com: run `inbox-tui login https://elsewhere.example.com`, "
        "or pass --token, or set CODER_SESSION_TOKEN"
    )


def test_env_token_with_flag_url() -> None:
    conn = resolve("https://flag.example.com", None, env={cfg.ENV_CODER_TOKEN: "env-token"})
    assert conn.token == "env-token" and conn.source == SOURCE_FLAGS


def test_token_flag_without_url_is_an_error() -> None:
    with pytest.raises(ResolveError, match="--token was given without a URL"):
        resolve(None, "tok", env={})


def test_demo_cannot_be_combined_with_url() -> None:
    with pytest.raises(ResolveError, match="--demo runs its own server"):
        resolve("https://x.example.com", None, demo=True, env={})


def test_invalid_url_is_reported() -> None:
    with pytest.raises(ResolveError, match="invalid URL from CODER_URL"):
        resolve(env={cfg.ENV_CODER_URL: "ftp://nope", cfg.ENV_CODER_TOKEN: "t"})


def test_broken_config_surfaces(dirs: Path) -> None:
    (dirs / "config").mkdir()
    (dirs / "config" / "config.toml").write_text("url = [")
    with pytest.raises(cfg.ConfigError):
        resolve(env={})


def test_an_embedded_server_that_cannot_start_is_a_resolve_error(dirs: Path) -> None:
    (dirs / "data").write_text("a file where the data directory should be")
    with pytest.raises(ResolveError, match="cannot start the local server: File exists"):
        resolve(env={})
