"""The lean `status` resolution gives the full resolution's answer, or leaves the case to it (issue 11).

`status_fast.lean_target` reads the config, token, Coder CLI and runtime files without importing
inbox_tui.config/connection/local_server; here both run in-process on the same files and environment.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from inbox_tui import config, local_server
from inbox_tui.commands import status_fast
from inbox_tui.commands.status import StatusUnavailable, Target, resolve_target
from inbox_tui.commands.status_fast import _GiveUp, lean_target
from inbox_tui.plain_http import BadHeaderValue, parse_answer, request_bytes

URL = "https://coder.example.com"


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in ("CODER_URL", "CODER_SESSION_TOKEN", "XDG_RUNTIME_DIR"):
        monkeypatch.delenv(name, raising=False)
    for env, sub in (
        ("INBOX_TUI_CONFIG_DIR", "config"),
        ("INBOX_TUI_DATA_DIR", "data"),
        ("INBOX_TUI_STATE_DIR", "state"),
        ("CODER_CONFIG_DIR", "coderv2"),
        ("INBOX_TUI_RUNTIME_DIR", "run"),
    ):
        (tmp_path / sub).mkdir(mode=0o700)
        monkeypatch.setenv(env, str(tmp_path / sub))
    yield tmp_path


def both(url: str | None = None, token: str | None = None) -> tuple[object, object]:
    """(full answer, lean answer): a Target, or the exception type raised."""
    answers: list[object] = []
    for resolver in (lambda: resolve_target(url, token, demo=False), lambda: lean_target(url, token)):
        try:
            answers.append(resolver())
        except (StatusUnavailable, _GiveUp) as exc:
            answers.append(type(exc))
    return answers[0], answers[1]


def test_the_names_are_the_launchers_names() -> None:
    assert (status_fast.APP_NAME, status_fast.CONFIG_FILE, status_fast.TOKEN_FILE) == (
        config.APP_NAME,
        config.CONFIG_FILE,
        config.TOKEN_FILE,
    )


def test_flags_environment_config_and_coder_login_agree(dirs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    full, lean = both(URL + "/", "flag-token")
    assert full == lean == Target(URL, "flag-token", "coder.example.com")

    monkeypatch.setenv("CODER_URL", "http://127.0.0.1:3000/api/v2")
    monkeypatch.setenv("CODER_SESSION_TOKEN", "env-token")
    full, lean = both()
    assert full == lean == Target("http://127.0.0.1:3000", "env-token", "127.0.0.1:3000")
    monkeypatch.delenv("CODER_URL")
    monkeypatch.delenv("CODER_SESSION_TOKEN")

    (dirs / "coderv2" / "url").write_text(URL + "\n")
    (dirs / "coderv2" / "session").write_text("coder-token\n")
    full, lean = both()
    assert full == lean == Target(URL, "coder-token", "coder.example.com")

    (dirs / "config" / "config.toml").write_text('url = "https://inbox.example.com/"\nalert = "off"\n')
    (dirs / "config" / "token").write_text("our-token\n")
    full, lean = both()
    assert full == lean == Target("https://inbox.example.com", "our-token", "inbox.example.com")

    # A saved token is only sent to the URL it was saved with: the full path refuses, the lean one defers.
    monkeypatch.setenv("CODER_URL", "https://elsewhere.example.com")
    full, lean = both()
    assert (full, lean) == (StatusUnavailable, _GiveUp)
    # ... but the Coder CLI's token goes with its own URL, also when set through CODER_URL.
    monkeypatch.setenv("CODER_URL", URL)
    full, lean = both()
    assert full == lean == Target(URL, "coder-token", "coder.example.com")


def test_a_broken_config_is_left_to_the_full_path(dirs: Path) -> None:
    (dirs / "config" / "config.toml").write_text("url = [\n")
    assert both()[1] is _GiveUp


def test_the_local_server_is_found_where_local_server_looks(dirs: Path) -> None:
    assert both() == (StatusUnavailable, _GiveUp)  # nothing running: the full path says so; neither starts it
    paths = local_server.LocalPaths.default()
    runtime = {"pid": os.getpid(), "socket": str(paths.socket), "db": str(paths.db), "started_at": 0}
    paths.runtime.write_text(json.dumps(runtime))
    paths.token.write_text("local-token\n")
    full, lean = both()
    assert full == lean == Target("http://localhost", "local-token", "local", socket=str(paths.socket))
    os.chmod(paths.runtime.parent, 0o755)  # someone else could have put the socket there
    with pytest.raises(_GiveUp):  # the full path tightens the directory (and would go on)
        lean_target(None, None)


def test_answers_are_read_with_or_without_chunks() -> None:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
    assert parse_answer(head + b"content-length: 2\r\n\r\n{}trailing") == (200, b"{}")
    chunked = head + b'Transfer-Encoding: chunked\r\n\r\n3\r\n{"a\r\n4\r\n": 1\r\n1\r\n}\r\n0\r\n\r\n'
    assert parse_answer(chunked) == (200, b'{"a": 1}')
    assert parse_answer(b"HTTP/1.1 401 Unauthorized\r\n\r\n") == (401, b"")
    with pytest.raises(ValueError):
        parse_answer(b"SSH-2.0-OpenSSH\r\n")


def test_a_token_cannot_add_headers() -> None:
    with pytest.raises(BadHeaderValue):
        request_bytes("localhost", "/", "abc\r\nX-Evil: 1")
    assert b"Coder-Session-Token: abc-def\r\n" in request_bytes("localhost", "/", "abc-def")


@pytest.mark.parametrize(
    "environ",
    [
        {"HOME": "/home/ada"},
        {"HOME": "/home/ada/"},
        {"HOME": "/home/ada", "XDG_CONFIG_HOME": "/cfg", "XDG_DATA_HOME": "/data//x/"},
        {"HOME": "/home/ada", "XDG_CONFIG_HOME": "relative/ignored", "XDG_DATA_HOME": ""},
    ],
)
def test_directories_match_platformdirs(environ: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "INBOX_TUI_CONFIG_DIR", "INBOX_TUI_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CODER_CONFIG_DIR", "")
    assert status_fast._dir("INBOX_TUI_CONFIG_DIR", "config") == str(config.config_dir())
    assert status_fast._dir("INBOX_TUI_DATA_DIR", "data") == str(config.data_dir())
    coder = status_fast._dir("CODER_CONFIG_DIR", "config", "coderv2", roaming=True)
    assert coder == str(config.coder_config_dir())
