"""The lean path of `inbox-tui status`: the common cases without importing the config or launcher modules.

`inbox_tui.config`, `connection`, `local_server` and `embedded` cost a status bar tens of milliseconds
per run (dataclasses and inspect, logging, tempfile, subprocess). This module answers the same question,
which deployment and which token, for the cases a status bar meets, by reading the same files the same
way, and gives up (returns None) on anything else, for the full path to decide or to report:

- the URL: `--url`, else `CODER_URL`, else `url` in our config.toml, else the Coder CLI's `url` file;
- the token: `--token`, else `CODER_SESSION_TOKEN`, else the token saved with that same URL (ours, then the
  Coder CLI's): a saved token is never sent to another server;
- no URL: the shared local server, from its runtime file, if its PID is alive, in a runtime directory
  that is ours and private (else the full path, which checks and reports).

tests/client/test_cli_status_live.py holds it to `inbox_tui.connection` and `LocalPaths.default()`.
"""

from __future__ import annotations

import os
import sys

from inbox_tui.commands.status import (
    DEFAULT_FORMAT,
    DEFAULT_TIMEOUT,
    FIELDS,
    NOT_RUNNING,
    StatusUnavailable,
    Target,
    print_status,
    render_line,
    url_label,
)
from inbox_tui.local_runtime import DB_FILE, HOST_URL, pid_alive, runtime_dir_choice, runtime_key

# Deliberate copies of inbox_tui.config's names (importing it loads platformdirs and dataclasses, ~10 ms of
# every status line); tests/client/test_status_resolution.py holds them equal.
APP_NAME = "inbox-tui"
CONFIG_FILE = "config.toml"
TOKEN_FILE = "token"


class _GiveUp(Exception):
    """Not a case the lean path is sure about: the full path decides."""


# platformdirs' Linux defaults: (XDG variable, default under HOME). platformdirs itself loads pathlib,
# tempfile, random, bz2 and lzma (~10 ms of every status line); elsewhere it is used as the config does.
_XDG = {"config": ("XDG_CONFIG_HOME", ".config"), "data": ("XDG_DATA_HOME", ".local/share")}


def _dir(env: str, kind: str, app: str = APP_NAME, *, roaming: bool = False) -> str:
    value = os.environ.get(env, "").strip()
    if value:
        return os.path.expanduser(value)
    if sys.platform.startswith("linux"):
        variable, default = _XDG[kind]
        base = os.environ.get(variable, "")
        if not os.path.isabs(base):
            home = os.environ.get("HOME", "")
            if not os.path.isabs(home):
                raise _GiveUp  # platformdirs falls back to the password database: let it
            base = os.path.join(home, default)
        if ".." in base.split("/"):
            raise _GiveUp  # pathlib keeps `..`, normpath would not: leave such paths to the full path
        return os.path.normpath(os.path.join(base, app))
    import platformdirs

    if kind == "config":
        return platformdirs.user_config_dir(app, appauthor=False, roaming=roaming)
    return platformdirs.user_data_dir(app, appauthor=False)


def _read(path: str) -> str | None:
    """Like config.read_text: stripped text, None when missing or empty; other errors: give up."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read().strip()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except (OSError, ValueError) as exc:
        raise _GiveUp from exc
    return text or None


def _config_url(config_dir: str) -> str | None:
    try:
        with open(os.path.join(config_dir, CONFIG_FILE), "rb") as handle:
            raw = handle.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise _GiveUp from exc
    import tomllib

    try:
        value = tomllib.loads(raw.decode("utf-8")).get("url")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _GiveUp from exc
    if value is not None and not isinstance(value, str):
        raise _GiveUp
    return (value or "").strip() or None


def _normal(url: str) -> str:
    from inbox_tui.urls import normalize_url

    try:
        return normalize_url(url)
    except ValueError as exc:
        raise _GiveUp from exc


def _same(a: str | None, b: str | None) -> bool:
    return bool(a and b) and _normal(a or "") == _normal(b or "")


def _local_target() -> Target:
    db = os.path.join(_dir("INBOX_TUI_DATA_DIR", "data"), DB_FILE)
    run = _runtime_dir()
    key = runtime_key(os.path.abspath(db))
    import json

    text = _read(os.path.join(run, f"{key}.json"))
    if text is None:
        raise _GiveUp  # not running, or not where we looked: the full path is sure, and says which
    try:
        data = json.loads(text)
        pid, sock = int(data["pid"]), str(data.get("socket") or "")
    except (ValueError, KeyError, TypeError) as exc:
        raise _GiveUp from exc
    if not sock or not pid_alive(pid):
        raise StatusUnavailable(NOT_RUNNING)
    token = _read(os.path.join(os.path.dirname(db), TOKEN_FILE))
    if token is None:
        raise _GiveUp
    return Target(url=HOST_URL, token=token, label="local", socket=sock)


def _runtime_dir() -> str:
    """local_server.runtime_dir's choice, only if the directory exists, is ours and is private (checked
    here without creating or tightening it, which local_server.runtime_dir does and reports)."""
    import stat

    path = runtime_dir_choice()
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise _GiveUp from exc
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
        raise _GiveUp  # the full path refuses or tightens it, and says so
    return path


def lean_target(url_flag: str | None, token_flag: str | None) -> Target:
    """What `status.resolve_target` answers, for the common cases; raises _GiveUp for the rest."""
    env_url = os.environ.get("CODER_URL", "").strip() or None
    env_token = os.environ.get("CODER_SESSION_TOKEN", "").strip() or None
    config_dir = _dir("INBOX_TUI_CONFIG_DIR", "config")
    coder_dir = _dir("CODER_CONFIG_DIR", "config", "coderv2", roaming=True)
    config_url = _config_url(config_dir)
    coder_url = _read(os.path.join(coder_dir, "url"))
    url = (url_flag or "").strip() or env_url or config_url or coder_url
    token = (token_flag or "").strip() or env_token
    if url is None:
        if token_flag:
            raise _GiveUp  # the full path words the error
        return _local_target()
    if token is None and _same(url, config_url):
        token = _read(os.path.join(config_dir, TOKEN_FILE))
    if token is None and _same(url, coder_url):
        token = _read(os.path.join(coder_dir, "session"))
    if token is None:
        raise _GiveUp
    base = _normal(url)
    return Target(url=base, token=token, label=url_label(base))


def _fast_args(argv: list[str]) -> dict[str, str | bool] | None:
    """`status` and its options, or None when anything needs argparse (help, errors, --demo)."""
    values: dict[str, str | bool] = {}
    words = iter(argv)
    seen_command = False
    for word in words:
        if word == "status" and not seen_command:
            seen_command = True
            continue
        if word == "--hide-zero" and seen_command:
            values["hide_zero"] = True
            continue
        name, eq, value = word.partition("=")
        allowed = ("--url", "--token", "--format", "--timeout") if seen_command else ("--url", "--token")
        if name not in allowed or name[2:] in values:
            return None
        if not eq:
            following = next(words, None)
            if following is None:
                return None
            value = following
        values[name[2:]] = value
    return values if seen_command else None


def run_fast(argv: list[str]) -> int | None:
    """Run `status` on the lean path; None when the full path must (argparse, or an unusual set-up)."""
    values = _fast_args(argv)
    if values is None:
        return None
    try:
        timeout = float(values.get("timeout", DEFAULT_TIMEOUT))
    except ValueError:
        return None
    form, hide_zero = str(values.get("format", DEFAULT_FORMAT)), bool(values.get("hide_zero"))
    try:
        render_line(form, {name: 0 if name == "unread" else "" for name in FIELDS})
    except ValueError:  # a usage error, whatever the connection: print_status reports it before asking
        return print_status(lambda: Target("", "", ""), form, hide_zero, timeout)
    url_flag, token_flag = values.get("url"), values.get("token")
    try:
        target = lean_target(str(url_flag) if url_flag else None, str(token_flag) if token_flag else None)
    except _GiveUp:
        return None
    except StatusUnavailable as exc:
        failure = exc

        def fail() -> Target:
            raise failure

        return print_status(fail, form, hide_zero, timeout)
    return print_status(lambda: target, form, hide_zero, timeout)
