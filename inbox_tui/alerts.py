"""Telling the user about new notifications while the terminal is not focused.

Modes (config `alert`): `bell` (default), `osc9` (iTerm2, kitty, WezTerm, Windows Terminal desktop
notification), `osc777` (urxvt, foot, Ghostty, VTE-based terminals), `command` (run `alert_command`
with the notification in its environment), `off`.

A burst of arrivals makes one alert, not one per notification. Text from the server goes into escape
sequences only after control characters (and the OSC 777 field separator) are removed.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from inbox_tui.api.models import InboxNotification
from inbox_tui.config import ALERT_MODES, AlertMode
from inbox_tui.text import clean_line, markdown_to_text

# What each mode does, in a few words (the palette's "Alert: ..." commands).
ALERT_DESCRIPTIONS: dict[str, str] = {
    "bell": "ring the terminal bell",
    "osc9": "desktop notification through the terminal (OSC 9: iTerm2, kitty, WezTerm, Windows Terminal)",
    "osc777": "desktop notification through the terminal (OSC 777: foot, Ghostty, VTE terminals, urxvt)",
    "command": "run the config file's alert_command",
    "off": "no alert",
}

_MAX_TITLE = 80
_MAX_BODY = 200


class AlertSettings(NamedTuple):
    """How to alert: the mode and, for `command`, the command line (split like a shell, never run by one)."""

    mode: AlertMode = "bell"
    command: str | None = None

    @classmethod
    def from_config(cls, mode: str, command: str | None) -> AlertSettings:
        """Settings from the config file's `alert` / `alert_command` (unknown modes fall back to bell)."""
        chosen: AlertMode = "bell"
        for candidate in ALERT_MODES:
            if candidate == mode:
                chosen = candidate
        if chosen == "command" and not (command or "").strip():
            chosen = "bell"
        return cls(chosen, command)


class Alert(NamedTuple):
    """What to say about a batch of arrivals."""

    title: str
    body: str
    notification: InboxNotification


def summarize(arrivals: Sequence[InboxNotification]) -> Alert | None:
    """One alert for a batch: the newest notification, and how many came with it."""
    if not arrivals:
        return None
    newest = max(arrivals, key=lambda n: n.created_at)
    title = _field(newest.title, _MAX_TITLE) or "New notification"
    body = _field(markdown_to_text(newest.content), _MAX_BODY)
    if len(arrivals) > 1:
        title = _field(f"{len(arrivals)} new notifications: {title}", _MAX_TITLE)
    return Alert(title, body, newest)


def _field(text: str, limit: int) -> str:
    text = clean_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _wrap_for_tmux(sequence: str, env: Mapping[str, str]) -> str:
    """Inside tmux an OSC must be passed through (needs `allow-passthrough on`) to reach the terminal."""
    if env.get("TMUX"):
        return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return sequence


def escape_sequence(mode: AlertMode, alert: Alert, env: Mapping[str, str] | None = None) -> str:
    """The bytes to write to the terminal for this mode ('' for command/off)."""
    environ = os.environ if env is None else env
    if mode == "bell":
        return "\a"
    if mode == "osc9":
        text = alert.title if not alert.body else f"{alert.title}: {alert.body}"
        return _wrap_for_tmux(f"\x1b]9;{_field(text, _MAX_TITLE + _MAX_BODY)}\x07", environ)
    if mode == "osc777":
        title = alert.title.replace(";", ",")
        body = alert.body.replace(";", ",")
        return _wrap_for_tmux(f"\x1b]777;notify;{title};{body}\x07", environ)
    return ""


def command_environment(alert: Alert, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for `alert_command`: the notification travels in variables, never in the command line."""
    env = dict(os.environ if base is None else base)
    notification = alert.notification
    env.update(
        {
            "INBOX_TITLE": alert.title,
            "INBOX_BODY": alert.body,
            "INBOX_NOTIFICATION_ID": notification.id,
            "INBOX_TEMPLATE_ID": notification.template_id,
            "INBOX_URL": notification.actions[0].url if notification.actions else "",
        }
    )
    return env


COMMAND_TIMEOUT = 10.0


async def run_command(command: str, alert: Alert) -> int | None:
    """Run `alert_command` (no shell) with the alert in its environment; returns the exit code."""
    import shlex  # only when an alert command runs (start-up does not need it)

    argv = shlex.split(command)
    if not argv:
        return None
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        env=command_environment(alert),
        start_new_session=True,
    )
    try:
        return await asyncio.wait_for(process.wait(), COMMAND_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        return None
