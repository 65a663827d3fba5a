"""The inbox-tui config file, the saved token, and where everything lives on disk (no Textual here).

- Config: TOML at `<config dir>/config.toml`, read with `tomllib`, written with `tomli-w`. Keys the code
  does not know are kept when the file is rewritten.
- Token: `<config dir>/token`, alone in its file, mode 0600; only ever sent to the URL saved beside it.
- Directories come from platformdirs and can be moved with `INBOX_TUI_CONFIG_DIR`, `INBOX_TUI_DATA_DIR`
  and `INBOX_TUI_STATE_DIR` (tests point them at temporary folders).
- The Coder CLI's saved login (`url` and `session` files) is read from `$CODER_CONFIG_DIR`, else the
  `coderv2` folder of the user config dir (`~/.config/coderv2`, `~/Library/Application Support/coderv2`).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import platformdirs

from inbox_tui.local_runtime import ENV_RUNTIME_DIR
from inbox_tui.private_files import ensure_private_dir, tighten_tree

APP_NAME = "inbox-tui"
CONFIG_FILE = "config.toml"
TOKEN_FILE = "token"
UI_STATE_FILE = "ui-state.json"
DEMO_UI_STATE_FILE = "demo-ui-state.json"  # the demo's choices never carry into the real inbox

AlertMode = Literal["bell", "osc9", "osc777", "command", "off"]
# The one list of alert modes (the config file, the UI state, the alerts and the palette read it).
ALERT_MODES: tuple[AlertMode, ...] = ("bell", "osc9", "osc777", "command", "off")
DEFAULT_ALERT = "bell"
# Seconds between the open inbox's checks for read changes made elsewhere (one small request each).
DEFAULT_CHECK_INTERVAL = 15.0
DEFAULT_SERVER_IDLE_TIMEOUT = 600.0

ENV_CONFIG_DIR = "INBOX_TUI_CONFIG_DIR"
ENV_DATA_DIR = "INBOX_TUI_DATA_DIR"
ENV_STATE_DIR = "INBOX_TUI_STATE_DIR"
ENV_CODER_CONFIG_DIR = "CODER_CONFIG_DIR"
ENV_SERVER_IDLE_TIMEOUT = "INBOX_TUI_SERVER_IDLE_TIMEOUT"
ENV_SERVER_TIMEOUT = "INBOX_TUI_SERVER_TIMEOUT"
ENV_CODER_URL = "CODER_URL"
ENV_CODER_TOKEN = "CODER_SESSION_TOKEN"


class Setting(NamedTuple):
    """One documented setting of the config file (docs/configuration.md is checked against these)."""

    key: str
    type: str
    default: str
    description: str


SETTINGS: tuple[Setting, ...] = (
    Setting("url", "string", "(unset)", "Deployment URL to connect to; `inbox-tui login URL` writes it."),
    Setting(
        "alert",
        "string",
        DEFAULT_ALERT,
        "How to announce a notification that arrives while the terminal is unfocused: "
        + ", ".join(f"`{m}`" for m in ALERT_MODES)
        + ".",
    ),
    Setting(
        "alert_command",
        "string",
        "(unset)",
        'Command run when `alert = "command"` (split like a shell line, never run by a shell); the '
        "notification travels in its environment (`INBOX_TITLE`, `INBOX_BODY`, ...).",
    ),
    Setting("theme", "string", "(Textual's default)", "Textual theme name, e.g. `nord` or `textual-light`."),
    Setting(
        "check_interval",
        "number",
        f"{DEFAULT_CHECK_INTERVAL:g}",
        "Seconds between the open inbox's checks for read changes made elsewhere (one small request); "
        "`0` turns the timer off (focus, arrivals and reconnects still check).",
    ),
    Setting(
        "server_idle_timeout",
        "number",
        f"{DEFAULT_SERVER_IDLE_TIMEOUT:g}",
        "Seconds the shared local server keeps running with no client before it stops (`0`: never); "
        "`INBOX_TUI_SERVER_IDLE_TIMEOUT` beats it.",
    ),
    Setting(
        "terminal_title",
        "boolean",
        "true",
        "Set the terminal's title to the unread count and deployment (`(3) inbox · local`), which tmux shows "
        "as the pane title; `false` leaves the title alone.",
    ),
    Setting(
        "mark_read_on_preview",
        "boolean",
        "false",
        "Mark a notification read when its preview opens (`enter`), not only when you act on it "
        "(open a link, `r`) as Coder's web inbox does.",
    ),
    Setting(
        "keys",
        "table",
        "(empty)",
        'Key overrides by binding id, e.g. `[keys]` then `toggle_read = "x"` (see docs/keymap.md).',
    ),
)

ENVIRONMENT: tuple[Setting, ...] = (
    Setting(ENV_CODER_URL, "URL", "", "Deployment URL (the Coder CLI's own variable); beats the config file."),
    Setting(ENV_CODER_TOKEN, "string", "", "Session token (the Coder CLI's own variable)."),
    Setting(ENV_CONFIG_DIR, "path", "platformdirs user config dir", "Where config.toml and token live."),
    Setting(ENV_DATA_DIR, "path", "platformdirs user data dir", "Embedded server database and its token."),
    Setting(ENV_STATE_DIR, "path", "platformdirs user state dir", "Remembered UI state, the local server's log."),
    Setting(
        ENV_RUNTIME_DIR,
        "path",
        "`$XDG_RUNTIME_DIR/inbox-tui`, else `/tmp/inbox-tui-<uid>`",
        "The local server's socket and runtime file (a private 0700 directory).",
    ),
    Setting(
        ENV_SERVER_IDLE_TIMEOUT,
        "seconds",
        "600",
        "The local server stops after this long with no client (0: never).",
    ),
    Setting(ENV_SERVER_TIMEOUT, "seconds", "30", "How long a command waits for the local server to answer."),
    Setting(ENV_CODER_CONFIG_DIR, "path", "~/.config/coderv2 (Linux)", "The Coder CLI's config dir to read."),
)


class ConfigError(Exception):
    """The config file exists but cannot be used; the message names the file and the problem."""


# -- directories ----------------------------------------------------------------------------------


def _dir(env: str, default: str) -> Path:
    value = os.environ.get(env, "").strip()
    return Path(value).expanduser() if value else Path(default)


def config_dir() -> Path:
    """`$INBOX_TUI_CONFIG_DIR`, else the platformdirs user config dir for inbox-tui."""
    return _dir(ENV_CONFIG_DIR, platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """`$INBOX_TUI_DATA_DIR`, else the platformdirs user data dir (embedded server database)."""
    return _dir(ENV_DATA_DIR, platformdirs.user_data_dir(APP_NAME, appauthor=False))


def state_dir() -> Path:
    """`$INBOX_TUI_STATE_DIR`, else the platformdirs user state dir (UI state, the local server's log)."""
    return _dir(ENV_STATE_DIR, platformdirs.user_state_dir(APP_NAME, appauthor=False))


def our_dirs() -> tuple[Path, Path, Path]:
    """The config, data and state directories: ours, so private (0700)."""
    return config_dir(), data_dir(), state_dir()


def secure_dirs() -> None:
    """Tighten our existing directories to 0700 and the files in them to 0600, with a warning (on start).

    Older versions created them 0755 (0777 under umask 000) and the database 0644.
    """
    with contextlib.suppress(OSError):
        tighten_tree(our_dirs())


def coder_config_dir() -> Path:
    """The Coder CLI's config dir: `$CODER_CONFIG_DIR`, else `coderv2` in the user config dir."""
    return _dir(ENV_CODER_CONFIG_DIR, platformdirs.user_config_dir("coderv2", appauthor=False, roaming=True))


def config_path() -> Path:
    """The config file."""
    return config_dir() / CONFIG_FILE


def token_path() -> Path:
    """The file holding the saved session token."""
    return config_dir() / TOKEN_FILE


# -- small file helpers ---------------------------------------------------------------------------


def write_private(path: Path, text: str) -> None:
    """Write a secret atomically with mode 0600 (created that way, never world-readable in between)."""
    ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_atomic(path: Path, text: str) -> None:
    """Write a file atomically (a crash never leaves half a config), mode 0600 in a 0700 directory."""
    write_private(path, text)


def read_text(path: Path) -> str | None:
    """A file's text stripped of surrounding whitespace, or None if it is missing or empty."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    return text or None


# -- the config file ------------------------------------------------------------------------------


@dataclass(slots=True)
class Config:
    """The settings of config.toml (see SETTINGS); `extra` keeps keys this version does not know."""

    url: str | None = None
    alert: str = DEFAULT_ALERT
    alert_command: str | None = None
    theme: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # Binding id -> "config.toml line N", so a warning about a `[keys]` entry names the line.
    key_origins: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    check_interval: float = DEFAULT_CHECK_INTERVAL
    terminal_title: bool = True
    mark_read_on_preview: bool = False
    server_idle_timeout: float = DEFAULT_SERVER_IDLE_TIMEOUT

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = CONFIG_FILE) -> Config:
        """Validate a parsed TOML document."""
        extra = dict(data)

        def take_str(key: str) -> str | None:
            value = extra.pop(key, None)
            if value is None:
                return None
            if not isinstance(value, str):
                raise ConfigError(f"{source}: `{key}` must be a string, not {type(value).__name__}")
            return value.strip() or None

        url = take_str("url")
        alert = take_str("alert") or DEFAULT_ALERT
        if alert not in ALERT_MODES:
            raise ConfigError(f"{source}: `alert` must be one of {', '.join(ALERT_MODES)}, not {alert!r}")
        alert_command = take_str("alert_command")
        theme = take_str("theme")
        check_interval = _take_interval(extra, "check_interval", source)
        terminal_title = _take_bool(extra, "terminal_title", source, True)
        mark_read_on_preview = _take_bool(extra, "mark_read_on_preview", source, False)
        server_idle_timeout = _take_interval(extra, "server_idle_timeout", source, DEFAULT_SERVER_IDLE_TIMEOUT)
        raw_keys = extra.pop("keys", {})
        if not isinstance(raw_keys, dict):
            raise ConfigError(f'{source}: `keys` must be a table of binding id = "key"')
        keys: dict[str, str] = {}
        for binding_id, key in raw_keys.items():
            # A key ("x"), several keys ("x,ctrl+x") or a list of keys (["x", "ctrl+x"]); kept as one string.
            items: list[Any] = key if isinstance(key, list) else [key]
            strings = [item for item in items if isinstance(item, str)]
            parts = [part.strip() for item in strings for part in item.split(",")]
            if not items or len(strings) != len(items) or not all(parts):
                raise ConfigError(
                    f'{source}: keys.{binding_id} must be a key such as "x", or a list of keys such as ["x", "X"]'
                )
            keys[str(binding_id)] = ",".join(parts)
        return cls(
            url=url,
            alert=alert,
            alert_command=alert_command,
            theme=theme,
            keys=keys,
            extra=extra,
            check_interval=check_interval,
            terminal_title=terminal_title,
            mark_read_on_preview=mark_read_on_preview,
            server_idle_timeout=server_idle_timeout,
        )

    def to_dict(self) -> dict[str, Any]:
        """The TOML document to write (unset values are left out)."""
        data: dict[str, Any] = {}
        if self.url:
            data["url"] = self.url
        if self.alert != DEFAULT_ALERT:
            data["alert"] = self.alert
        if self.alert_command:
            data["alert_command"] = self.alert_command
        if self.theme:
            data["theme"] = self.theme
        if self.check_interval != DEFAULT_CHECK_INTERVAL:
            data["check_interval"] = self.check_interval
        if not self.terminal_title:
            data["terminal_title"] = False
        if self.mark_read_on_preview:
            data["mark_read_on_preview"] = True
        if self.server_idle_timeout != DEFAULT_SERVER_IDLE_TIMEOUT:
            data["server_idle_timeout"] = self.server_idle_timeout
        for key, value in self.extra.items():
            if not isinstance(value, dict):
                data[key] = value
        for key, value in self.extra.items():
            if isinstance(value, dict):
                data[key] = value
        if self.keys:
            data["keys"] = dict(self.keys)
        return data


def _take_bool(data: dict[str, Any], key: str, source: str, default: bool) -> bool:
    """A true/false switch (a string "false" is a mistake worth saying, not a true value)."""
    value = data.pop(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{source}: `{key}` must be true or false, not {value!r}")
    return value


def _take_interval(data: dict[str, Any], key: str, source: str, default: float = DEFAULT_CHECK_INTERVAL) -> float:
    """A number of seconds, 0 or more (0 = off); fractions are fine (tests use short intervals)."""
    value = data.pop(key, default)
    # TOML booleans are ints to Python: `check_interval = true` is a mistake, not one second.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{source}: `{key}` must be a number of seconds, not {type(value).__name__}")
    if not value >= 0 or value == float("inf"):
        raise ConfigError(f"{source}: `{key}` must be 0 (off) or a positive number of seconds, not {value!r}")
    return float(value)


def load_config(path: Path | None = None) -> Config:
    """Read the config file; a missing file is an empty config, a broken one a ConfigError."""
    target = path or config_path()
    try:
        raw = target.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return Config()
    except OSError as exc:
        raise ConfigError(f"cannot read {target}: {exc.strerror or exc}") from exc
    # TOML is parsed only when there is a file (start-up without a config file skips the import).
    import tomllib

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{target}: not UTF-8 text ({exc.reason})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{target}: invalid TOML: {exc}") from exc
    config = Config.from_dict(data, source=str(target))
    if config.keys:
        lines = _key_lines(raw.decode("utf-8"))
        config.key_origins = {key: f"{target.name} line {lines[key]}" for key in config.keys if key in lines}
    return config


def _key_lines(text: str) -> dict[str, int]:
    """Binding id -> the line of the config file that sets it (`[keys]` entries and `keys.x = ...`)."""
    import re

    entry = re.compile(r'\s*(keys\s*\.\s*)?(["\']?)([A-Za-z0-9_-]+)\2\s*=')
    lines: dict[str, int] = {}
    section = ""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped.strip("[] \t").split("#")[0].strip().strip("[] ")
            continue
        match = entry.match(line)
        if match and (section == "keys" or (section == "" and match.group(1))):
            lines.setdefault(match.group(3), number)
    return lines


def save_config(config: Config, path: Path | None = None) -> Path:
    """Write the config file atomically; returns its path."""
    import tomli_w

    target = path or config_path()
    write_atomic(target, tomli_w.dumps(config.to_dict()))
    return target


def load_token() -> str | None:
    """The saved session token, or None."""
    return read_text(token_path())


def save_token(token: str) -> Path:
    """Save the session token (mode 0600)."""
    path = token_path()
    write_private(path, token.strip() + "\n")
    return path


def delete_token() -> bool:
    """Forget the saved token; True if there was one."""
    try:
        token_path().unlink()
    except FileNotFoundError:
        return False
    return True


# -- the Coder CLI's saved login ------------------------------------------------------------------


class CoderLogin(NamedTuple):
    """What `coder login` saved: the deployment URL and the session token (either may be missing)."""

    url: str | None
    token: str | None
    directory: Path


def load_coder_login() -> CoderLogin:
    """Read the Coder CLI's `url` and `session` files."""
    directory = coder_config_dir()
    return CoderLogin(url=read_text(directory / "url"), token=read_text(directory / "session"), directory=directory)


# -- remembered UI state --------------------------------------------------------------------------


def ui_state_path(demo: bool = False) -> Path:
    """The JSON file where the TUI remembers theme, filters and the like between runs (the demo's apart)."""
    return state_dir() / (DEMO_UI_STATE_FILE if demo else UI_STATE_FILE)
