"""An inbox-tui environment with nothing configured, for tests of the shared local server.

Every directory lives in a temporary folder (the runtime dir in a short one: a Unix socket path must fit
in 108 bytes). The servers these tests start are detached on purpose, so the fixture finds them by the
database they serve (the serve lock's holder, and any `serve` process on that database in /proc) and
stops them by PID at teardown, then checks that none is left.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class LocalEnv:
    """The environment of one test's `inbox-tui` processes, and where their local server's files are."""

    env: dict[str, str]
    root: Path
    runtime: Path

    @property
    def db(self) -> Path:
        """The embedded default's database."""
        return self.root / "data" / "inbox.db"

    @property
    def token_file(self) -> Path:
        """The local owner's token file."""
        return self.root / "data" / "token"

    @property
    def log(self) -> Path:
        """The local server's log."""
        return self.root / "state" / "server.log"

    def runtime_file(self) -> Path:
        """The runtime file the server publishes (the only `*.json` in the runtime dir)."""
        found = sorted(self.runtime.glob("*.json"))
        assert len(found) == 1, found
        return found[0]

    def cli(self, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
        """Run `inbox-tui ARGS` to completion."""
        return subprocess.run(
            [sys.executable, "-m", "inbox_tui.cli", *args],
            env={**self.env, **env},
            input="",
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def popen(self, *args: str, **env: str) -> subprocess.Popen[str]:
        """Start `inbox-tui ARGS` (output piped, line-buffered text)."""
        return subprocess.Popen(
            [sys.executable, "-m", "inbox_tui.cli", *args],
            env={**self.env, **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def server_pids(self) -> list[int]:
        """Every live `inbox-server serve` process on this environment's database (from /proc)."""
        return serve_pids(self.db)

    def server_pid(self) -> int:
        """The one running server's PID (fails if there is not exactly one)."""
        pids = self.server_pids()
        assert len(pids) == 1, pids
        return pids[0]


def serve_pids(db: Path) -> list[int]:
    """PIDs of live, non-zombie `server.cli serve` processes whose command line names `db`."""
    found: list[int] = []
    wanted = str(db)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv]
        if state != "Z" and "server.cli" in words and "serve" in words and wanted in words:
            found.append(int(entry.name))
    return sorted(found)


def wait_until(predicate: object, timeout: float = 20.0, step: float = 0.05) -> bool:
    """Poll `predicate()` until it is true or `timeout` passes; returns its last value."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(step)


def kill_pid(pid: int) -> None:
    """SIGCONT (it may be stopped), SIGKILL, and wait until it is gone."""
    for sig in (signal.SIGCONT, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, 0)
    wait_until(lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid), timeout=10)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def make_local_env(root: Path, *, idle_timeout: float = 60.0) -> LocalEnv:
    """Nothing configured, every inbox-tui directory under `root`, a short private runtime dir."""
    runtime = Path(tempfile.mkdtemp(prefix="itr-"))
    env = {k: v for k, v in os.environ.items() if k not in ("CODER_URL", "CODER_SESSION_TOKEN", "INBOX_DB")}
    env.update(
        {
            "INBOX_TUI_CONFIG_DIR": str(root / "config"),
            "INBOX_TUI_DATA_DIR": str(root / "data"),
            "INBOX_TUI_STATE_DIR": str(root / "state"),
            "INBOX_TUI_RUNTIME_DIR": str(runtime / "run"),
            "INBOX_TUI_SERVER_IDLE_TIMEOUT": str(idle_timeout),
            "CODER_CONFIG_DIR": str(root / "coderv2"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return LocalEnv(env=env, root=root, runtime=runtime / "run")


def stop_local_servers(local: LocalEnv) -> list[int]:
    """Stop (by PID) every server left on the environment's database; returns the PIDs it had to stop."""
    left = local.server_pids()
    for pid in left:
        kill_pid(pid)
    shutil.rmtree(local.runtime.parent, ignore_errors=True)
    return left
