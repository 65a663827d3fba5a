"""Open inboxes in tmux (its default settings), as people keep them: several at once, the server killed.

Each test runs a private tmux server (`tmux -S <socket> -f /dev/null`), stopped by its socket at the end;
the local server the inboxes share is stopped by PID by the `local_env` fixture.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.local_env import LocalEnv, wait_until
from tests.tools import require_tool

RESTART_WITHIN = 5.0


class Tmux:
    """A private tmux server whose windows run `inbox-tui`."""

    def __init__(self, env: dict[str, str]) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="itx-"))
        self.socket = str(self.dir / "tmux")
        self.env = env
        self.started = False

    def run(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", self.socket, "-f", "/dev/null", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def open_inbox(self, name: str, width: int = 100, height: int = 30) -> None:
        command = shlex.join([sys.executable, "-m", "inbox_tui.cli"])
        if not self.started:
            self.run("new-session", "-d", "-s", "main", "-n", name, "-x", str(width), "-y", str(height), command)
            self.run("set-option", "-g", "remain-on-exit", "on")
            self.started = True
        else:
            self.run("new-window", "-d", "-t", "main", "-n", name, command)

    def screen(self, name: str) -> str:
        return self.run("capture-pane", "-p", "-t", f"main:{name}")

    def wait_for(self, name: str, text: str, timeout: float = 30.0) -> str:
        screen = ""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen(name)
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not on window {name} within {timeout} s:\n{screen}")

    def keys(self, name: str, *keys: str) -> None:
        self.run("send-keys", "-t", f"main:{name}", *keys)

    def pane_pid(self, name: str) -> int:
        return int(self.run("display-message", "-p", "-t", f"main:{name}", "#{pane_pid}").strip())

    def pane_dead(self, name: str) -> bool:
        return self.run("display-message", "-p", "-t", f"main:{name}", "#{pane_dead}").strip() == "1"

    def close(self) -> None:
        if self.started:
            pids = []
            for line in self.run("list-panes", "-a", "-F", "#{pane_pid}").split():
                pids.append(int(line))
            subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True, timeout=30)
            for pid in pids:  # the inboxes, by PID, in case they ignored the hang-up
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def tmux(local_env: LocalEnv) -> Iterator[Tmux]:
    require_tool("tmux", "tmux")
    session = Tmux({**local_env.env, "TERM": "xterm-256color"})
    try:
        yield session
    finally:
        session.close()


def send(local: LocalEnv, title: str) -> None:
    done = local.cli("send", title, "from another shell")
    assert done.returncode == 0, done.stderr


def test_two_inboxes_quit_either_and_the_other_stays_live(local_env: LocalEnv, tmux: Tmux) -> None:
    tmux.open_inbox("one")
    tmux.wait_for("one", "live")
    tmux.open_inbox("two")
    tmux.wait_for("two", "live")
    server = local_env.server_pid()
    send(local_env, "Seen by both")
    tmux.wait_for("one", "Seen by both")
    tmux.wait_for("two", "Seen by both")
    # Quit the first inbox (the one that started the server): the second is unaffected.
    tmux.keys("one", "q")
    assert wait_until(lambda: tmux.pane_dead("one"), timeout=20)
    send(local_env, "After the first quit")
    screen = tmux.wait_for("two", "After the first quit")
    assert "reconnecting" not in screen
    assert local_env.server_pids() == [server]
    # And the other way round: a new inbox, then quit the second.
    tmux.open_inbox("three")
    tmux.wait_for("three", "live")
    tmux.keys("two", "q")
    assert wait_until(lambda: tmux.pane_dead("two"), timeout=20)
    send(local_env, "After the second quit")
    tmux.wait_for("three", "After the second quit")
    assert local_env.server_pids() == [server]


def test_an_inbox_is_live_again_after_kill_9_of_its_server_and_catches_up(local_env: LocalEnv, tmux: Tmux) -> None:
    tmux.open_inbox("inbox")
    tmux.wait_for("inbox", "live")
    send(local_env, "Before the kill")
    tmux.wait_for("inbox", "Before the kill")
    old = local_env.server_pid()
    os.kill(old, signal.SIGKILL)
    killed = time.monotonic()
    # The inbox finds its server gone and starts it again itself (nobody sends anything).
    assert wait_until(lambda: len(local_env.server_pids()) == 1 and local_env.server_pids() != [old], timeout=15)
    tmux.wait_for("inbox", "live", timeout=RESTART_WITHIN)
    assert time.monotonic() - killed < RESTART_WITHIN + 1
    send(local_env, "After the restart")
    tmux.wait_for("inbox", "After the restart")


def test_an_inbox_catches_up_on_what_was_sent_while_its_server_was_down(local_env: LocalEnv, tmux: Tmux) -> None:
    tmux.open_inbox("inbox")
    tmux.wait_for("inbox", "live")
    os.kill(local_env.server_pid(), signal.SIGKILL)
    # `send` finds the server gone too and may be the one that restarts it: the inbox, reconnecting to
    # the restarted server, lists what it missed.
    send(local_env, "Sent during the outage")
    tmux.wait_for("inbox", "Sent during the outage", timeout=RESTART_WITHIN + 10)
    assert len(local_env.server_pids()) == 1


def _config(local: LocalEnv, check_interval: float) -> None:
    config = local.root / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text(f"check_interval = {check_interval}\n")


def test_read_all_from_the_cli_reaches_an_open_inbox_within_the_interval(local_env: LocalEnv, tmux: Tmux) -> None:
    _config(local_env, 0.5)
    tmux.open_inbox("inbox")
    tmux.wait_for("inbox", "live")
    send(local_env, "First of two")
    send(local_env, "Second of two")
    tmux.wait_for("inbox", " 2  unread")
    done = local_env.cli("read-all")
    assert done.returncode == 0, done.stderr
    screen = tmux.wait_for("inbox", " 0  unread", timeout=10)
    rows = [line for line in screen.splitlines() if "of two" in line]
    assert len(rows) == 2 and not any("●" in row for row in rows)  # the rows' marks follow, not only the header


def test_read_all_from_the_cli_reaches_an_open_inbox_at_once_on_focus(local_env: LocalEnv, tmux: Tmux) -> None:
    _config(local_env, 0)  # no timer: only focus (or a frame) can tell the inbox
    tmux.open_inbox("inbox")
    tmux.wait_for("inbox", "live")
    send(local_env, "Unread until focus")
    tmux.wait_for("inbox", " 1  unread")
    assert local_env.cli("read-all").returncode == 0
    time.sleep(1.0)
    assert " 1  unread" in tmux.screen("inbox")  # nothing told it yet
    # The terminal regains focus: the focus-in report a terminal sends (tmux passes typed bytes through).
    tmux.run("send-keys", "-t", "main:inbox", "-l", "\x1b[I")
    tmux.wait_for("inbox", " 0  unread", timeout=5)
