"""Where the shared local server publishes itself, and whether a PID lives: the os module only.

`inbox_tui.local_server` (which creates and checks these places) and the lean path of `inbox-tui status`
(`commands/status_fast.py`, which must not import the launcher modules: they load dataclasses, logging,
tempfile and subprocess, tens of milliseconds of every status line) both find the server here, so the
two cannot disagree about where it is.
"""

from __future__ import annotations

import contextlib
import os

ENV_RUNTIME_DIR = "INBOX_TUI_RUNTIME_DIR"
DB_FILE = "inbox.db"  # the embedded default's database, in the data directory
HOST_URL = "http://localhost"  # the Host the API sees through the socket


def runtime_dir_choice() -> str:
    """The runtime directory's path, as tmux keeps `/tmp/tmux-UID` (neither created nor checked here).

    `$INBOX_TUI_RUNTIME_DIR`, else `$XDG_RUNTIME_DIR/inbox-tui` when that exists, else `/tmp/inbox-tui-<uid>`.
    """
    explicit = os.environ.get(ENV_RUNTIME_DIR, "").strip()
    xdg = os.environ.get("XDG_RUNTIME_DIR", "").strip()
    if explicit:
        return os.path.expanduser(explicit)
    if xdg and os.path.isdir(xdg):
        return os.path.join(xdg, "inbox-tui")
    return f"/tmp/inbox-tui-{os.getuid()}"


def runtime_key(absolute_db: str) -> str:
    """The name (without suffix) of one database's socket and runtime file: each database has its own server."""
    # The builtin module, not hashlib: hashlib loads OpenSSL's (_hashlib), a few ms of every status line.
    try:
        from _sha256 import sha256  # type: ignore[import-not-found]  # Python 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # type: ignore[import-not-found]  # Python 3.12 and later
        except ImportError:
            from hashlib import sha256
    return str(sha256(absolute_db.encode()).hexdigest())[:16]


def pid_alive(pid: int) -> bool:
    """True if a process with this PID exists (and is not a zombie we could reap)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still answers kill(0); reap it if it is ours.
    with contextlib.suppress(ChildProcessError, OSError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True
