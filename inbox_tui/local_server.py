"""The shared local server: inbox-tui's embedded default, run the way tmux runs its server.

One `inbox-server` per database serves every `inbox-tui` process of the user:
- **Started on demand, detached.** The first command that needs it starts `inbox-server serve` in its own
  session (setsid), so it outlives the terminal and the client that started it. It listens on a Unix
  socket in the runtime directory (0700: no other local user can connect), logs to a size-rotated
  `server.log`, and publishes its PID and address in a runtime file beside the socket.
- **One per database.** The server holds an exclusive lock on `<database>.lock` for its whole life
  (`server/serve_lock.py`). A client starts a server only while that lock is free; if two clients race,
  the loser's server exits with status 2 and both use the winner. A server that holds the lock but does
  not answer (stopped, or busy) is waited for, never doubled.
- **Restarted by whoever finds it gone.** Every client re-checks before each reconnect: a dead PID or a
  free lock means start it again.
- **Stopped when nobody needs it**: after `idle_timeout` seconds with no request and no watcher (default
  10 minutes), or `inbox-tui server stop`.

This module, like `embedded.py`, knows the server only as a command to run and a file layout; it never
imports the `server` package.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inbox_tui import plain_http
from inbox_tui.config import (
    DEFAULT_SERVER_IDLE_TIMEOUT,
    ENV_SERVER_IDLE_TIMEOUT,
    ENV_SERVER_TIMEOUT,
    ConfigError,
    data_dir,
    load_config,
    state_dir,
)
from inbox_tui.embedded import (
    LOG_FILE,
    TOKEN_FILE,
    EmbeddedError,
    ensure_local_owner,
    log_tail,
    server_command,
    server_environment,
)
from inbox_tui.local_runtime import DB_FILE, ENV_RUNTIME_DIR, HOST_URL, pid_alive, runtime_dir_choice, runtime_key
from inbox_tui.private_files import ensure_private_dir

START_TIMEOUT = 30.0
PROBE_PATH = "/api/v2/users/me"
PROBE_TIMEOUT = 1.0  # how long a server that is alive may take to answer one probe
SLOW_NOTICE = 2.0  # after this long waiting for a server that holds the lock, say so
STOP_TIMEOUT = 10.0
EXIT_DATABASE_LOCKED = 2  # `inbox-server serve`: another process holds the database
LOCK_SUFFIX = ".lock"  # server/serve_lock.py's lock file, beside the database


def _say(message: str) -> None:
    """What a client tells the user about the local server (stderr; the TUI has not started yet)."""
    with contextlib.suppress(OSError, ValueError):
        print(f"inbox-tui: {message}", file=sys.stderr, flush=True)


# -- where things are -----------------------------------------------------------------------------


def runtime_dir() -> Path:
    """The private directory of sockets and runtime files, as tmux keeps `/tmp/tmux-UID`.

    `$INBOX_TUI_RUNTIME_DIR`, else `$XDG_RUNTIME_DIR/inbox-tui`, else `/tmp/inbox-tui-<uid>`. Created 0700;
    one that another user owns is refused (a socket there could be hijacked), one of ours that others
    can enter is tightened to 0700.
    """
    path = Path(runtime_dir_choice())
    try:
        ensure_private_dir(path)
        info = path.lstat()
    except OSError as exc:
        raise EmbeddedError(f"cannot create the runtime directory {path}: {exc.strerror or exc}") from exc
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise EmbeddedError(f"the runtime directory {path} is not a directory of yours; set {ENV_RUNTIME_DIR}")
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(path, 0o700)
    return path


@dataclass(frozen=True, slots=True)
class LocalPaths:
    """Every file of one database's local server."""

    db: Path
    token: Path
    socket: Path
    runtime: Path
    lock: Path
    log: Path

    @classmethod
    def default(cls) -> LocalPaths:
        """The embedded default's files: the database in the data dir, the log in the state dir."""
        db = data_dir() / DB_FILE
        # Keyed by the database, so each database has its own server (tests move the data dir).
        key = runtime_key(str(db.absolute()))
        run = runtime_dir()
        return cls(
            db=db,
            token=data_dir() / TOKEN_FILE,
            socket=run / f"{key}.sock",
            runtime=run / f"{key}.json",
            lock=Path(str(db) + LOCK_SUFFIX),
            log=state_dir() / LOG_FILE,
        )


def _seconds(variable: str, default: float) -> float:
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise EmbeddedError(f"{variable} must be a number of seconds, not {raw!r}") from None
    return max(0.0, value)


def idle_timeout() -> float:
    """Seconds the server waits with no client before it exits, 0 = never.

    `$INBOX_TUI_SERVER_IDLE_TIMEOUT`, else the config file's `server_idle_timeout`, else 10 minutes.
    """
    if os.environ.get(ENV_SERVER_IDLE_TIMEOUT, "").strip():
        return _seconds(ENV_SERVER_IDLE_TIMEOUT, DEFAULT_SERVER_IDLE_TIMEOUT)
    try:
        return load_config().server_idle_timeout
    except ConfigError as exc:
        raise EmbeddedError(str(exc)) from exc


def start_timeout() -> float:
    """How long a client waits for the local server to answer (`$INBOX_TUI_SERVER_TIMEOUT`)."""
    return _seconds(ENV_SERVER_TIMEOUT, START_TIMEOUT)


# -- what is running ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuntimeInfo:
    """What the server published in its runtime file."""

    pid: int
    socket: str
    db: str
    log: str
    started_at: float
    idle_timeout: float


def read_runtime(paths: LocalPaths) -> RuntimeInfo | None:
    """The runtime file, if present and well-formed (nothing is checked against the process)."""
    try:
        data: Any = json.loads(paths.runtime.read_text(encoding="utf-8"))
        return RuntimeInfo(
            pid=int(data["pid"]),
            socket=str(data.get("socket") or ""),
            db=str(data.get("db") or ""),
            log=str(data.get("log") or ""),
            started_at=float(data.get("started_at") or 0.0),
            idle_timeout=float(data.get("idle_timeout") or 0.0),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def lock_is_free(paths: LocalPaths) -> bool:
    """True when no process serves the database (nobody holds its serve lock)."""
    try:
        fd = os.open(paths.lock, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def lock_holder_pid(paths: LocalPaths) -> int | None:
    """The PID the serve lock file names (written by its holder), if any."""
    try:
        first = paths.lock.read_text(encoding="utf-8").split(maxsplit=1)
    except OSError:
        return None
    return int(first[0]) if first and first[0].isdigit() else None


def probe(socket_path: str, token: str = "", timeout: float = PROBE_TIMEOUT) -> int | None:
    """The status a server on the Unix socket answers to `GET /api/v2/users/me` with `token` within
    `timeout`, or None when nothing answers. One request tells both that the server is alive and whether
    it takes the token (401: expired or revoked)."""
    try:
        return plain_http.get(plain_http.Route.unix(socket_path), PROBE_PATH, token or None, timeout=timeout).status
    except plain_http.BadHeaderValue:
        return 401  # a token that cannot be sent is not one the server takes
    except (OSError, plain_http.Unusable):
        return None


def _request(paths: LocalPaths, path: str, token: str, timeout: float = 2.0) -> Any:
    """GET a JSON document through the socket (for `server status`)."""
    import httpx

    transport = httpx.HTTPTransport(uds=str(paths.socket))
    with httpx.Client(transport=transport, base_url=HOST_URL, timeout=timeout, trust_env=False) as client:
        response = client.get(path, headers={"Coder-Session-Token": token})
        response.raise_for_status()
        return response.json()


# -- the client's handle --------------------------------------------------------------------------


@dataclass(slots=True)
class LocalServer:
    """A running local server as a client sees it: how to reach it and who it is."""

    socket: str
    token: str
    pid: int
    paths: LocalPaths

    @property
    def url(self) -> str:
        """The Host-only URL the API client uses over the socket."""
        return HOST_URL

    @property
    def address(self) -> str:
        """Where it listens, for people (`unix:/path`)."""
        return f"unix:{self.socket}"


# Servers this process started. They outlive it by design (their own session), so nothing waits for
# them; holding the Popen keeps Python from warning "subprocess still running" when it would be collected,
# and polling reaps one that has exited while we still run (no zombie).
_detached: list[subprocess.Popen[bytes]] = []


def _reap_detached() -> None:
    _detached[:] = [proc for proc in _detached if proc.poll() is None]


def _spawn(paths: LocalPaths, idle: float) -> subprocess.Popen[bytes]:
    _reap_detached()
    proc = _start(paths, idle)
    _detached.append(proc)
    return proc


def _start(paths: LocalPaths, idle: float) -> subprocess.Popen[bytes]:
    args = [
        "serve",
        "--db",
        str(paths.db),
        "--unix-socket",
        str(paths.socket),
        "--runtime-file",
        str(paths.runtime),
        "--idle-timeout",
        str(idle),
        "--log-human",
        str(paths.log),
        "--log-level",
        "info",
    ]
    ensure_private_dir(paths.log.parent)
    # stderr catches what happens before logging is set up (an import error, a bad flag); the server's own
    # log lines go through its rotating handler.
    fd = os.open(paths.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        return subprocess.Popen(
            server_command(*args),
            env=server_environment(),  # a Coder admin's CODER_* settings must not configure it
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=fd,
            start_new_session=True,  # its own session and process group: not a child of the terminal
            close_fds=True,
        )
    except OSError as exc:
        raise EmbeddedError(f"cannot start the local server: {exc}") from exc
    finally:
        os.close(fd)


def find_running(
    paths: LocalPaths, token: str = "", *, probe_timeout: float = PROBE_TIMEOUT
) -> tuple[RuntimeInfo, int] | None:
    """The published server and the status it answers `token` with, if its PID is alive and it answers."""
    info = read_runtime(paths)
    if info is None or not info.socket or not pid_alive(info.pid):
        return None
    status = probe(info.socket, token, probe_timeout)
    return None if status is None else (info, status)


def ensure_running(
    paths: LocalPaths | None = None,
    *,
    timeout: float | None = None,
    start: bool = True,
    quiet: bool = False,
) -> LocalServer:
    """The local server, started (detached) if nobody serves the database; waits until it answers.

    Never starts a second server on a database whose lock is held: a server that is alive but does not
    answer (stopped with SIGSTOP, or busy) is waited for until `timeout`, then reported.
    """
    paths = paths or LocalPaths.default()
    timeout = start_timeout() if timeout is None else timeout
    token = ensure_local_owner(paths.db, paths.token)
    started = time.monotonic()
    deadline = started + timeout
    candidate: subprocess.Popen[bytes] | None = None
    waited_for: int | None = None
    while True:
        found = find_running(paths, token)
        if found is not None:
            info, status = found
            if status == 401:
                # The saved token expired (tokens from before expiry existed got 30 days at the upgrade)
                # or was revoked: the local owner gets a new one that never expires.
                token = ensure_local_owner(paths.db, paths.token, reissue=True)
            return LocalServer(socket=info.socket, token=token, pid=info.pid, paths=paths)
        if lock_is_free(paths):
            if not start:
                raise EmbeddedError("no local server is running")
            if candidate is None or candidate.poll() is not None:
                if candidate is not None and candidate.returncode not in (0, EXIT_DATABASE_LOCKED):
                    raise EmbeddedError(
                        f"the local server exited with status {candidate.returncode} (log: {paths.log})\n"
                        + log_tail(paths.log, 10)
                    )
                candidate = _spawn(paths, idle_timeout())
        else:
            # Held: a server is starting (ours or another client's), or it has published itself and is
            # alive but not answering (stopped, or busy). Say so about the latter once it has kept us
            # waiting for a while; never start a second one.
            holder = lock_holder_pid(paths)
            published = read_runtime(paths)
            silent = holder is not None and published is not None and published.pid == holder
            if silent and holder != waited_for and time.monotonic() - started > SLOW_NOTICE:
                waited_for = holder
                if not quiet:
                    _say(f"the local server (PID {holder}) is not answering; waiting up to {timeout:.0f} s")
        if time.monotonic() > deadline:
            holder = lock_holder_pid(paths)
            who = f" (PID {holder})" if holder else ""
            raise EmbeddedError(
                f"the local server{who} did not answer within {timeout:.0f} s; is it stopped? (log: {paths.log})"
            )
        time.sleep(0.05)


def stop(paths: LocalPaths | None = None, *, timeout: float = STOP_TIMEOUT) -> int | None:
    """Stop the local server (SIGTERM, then SIGKILL past `timeout`); returns its PID, None if none ran."""
    paths = paths or LocalPaths.default()
    if lock_is_free(paths):
        return None
    pid = lock_holder_pid(paths)
    if pid is None:
        info = read_runtime(paths)
        pid = info.pid if info is not None else None
    if pid is None or not pid_alive(pid):
        return None
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return pid
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return pid


@dataclass(frozen=True, slots=True)
class ServerStatus:
    """What `inbox-tui server status` prints."""

    address: str
    pid: int
    db: str
    uptime: float
    watchers: int
    idle_timeout: float
    log: str


def status(paths: LocalPaths | None = None) -> ServerStatus | None:
    """The running local server's status, or None when none answers."""
    paths = paths or LocalPaths.default()
    token = (paths.token.read_text(encoding="utf-8").strip() if paths.token.exists() else "") or ""
    found = find_running(paths, token)
    if found is None:
        return None
    info = found[0]
    try:
        data = _request(paths, "/inbox-server/status", token)
        watchers = int(data.get("watchers", 0))
        uptime = float(data.get("uptime_seconds", 0.0))
    except Exception:  # an old server, or a token that is gone: what the runtime file says still helps
        watchers = -1
        uptime = max(0.0, time.time() - info.started_at)
    return ServerStatus(
        address=f"unix:{info.socket}",
        pid=info.pid,
        db=info.db,
        uptime=uptime,
        watchers=watchers,
        idle_timeout=info.idle_timeout,
        log=info.log or str(paths.log),
    )
