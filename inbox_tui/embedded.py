"""The demo server, and the pieces both launchers share: the server command, the local owner, PIDs.

The embedded default (plain `inbox-tui` with nothing configured) is a shared, detached local server: see
`inbox_tui/local_server.py`. `--demo` keeps a server of its own instead:
- a throwaway database in a temporary directory, seeded and fed with realistic notifications;
- run as a child process (`python -m server.cli serve --demo --port 0`), its output in
  `<state dir>/demo-server.log`, stopped by PID when the command that started it ends;
- while a demo inbox is open it publishes `<state dir>/demo.json` (URL, PID, token) so other
  `inbox-tui --demo` commands reach the same demo server; a demo server whose owner died is adopted.

On first run of the embedded default a local owner is created in `<data dir>/inbox.db` and its token kept
in `<data dir>/token` (mode 0600) by `ensure_local_owner`.

This module and `local_server.py` are the only client modules that know about the server package, and
only as a command to run.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inbox_tui.config import read_text, state_dir, write_private
from inbox_tui.local_runtime import pid_alive
from inbox_tui.private_files import ensure_private_dir, open_private

TOKEN_FILE = "token"
LOG_FILE = "server.log"
DEMO_LOG_FILE = "demo-server.log"
DEMO_RUNTIME_FILE = "demo.json"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
DEMO_DIR_PREFIX = "inbox-tui-demo-"

_LISTENING = re.compile(r"listening on (https?://\S+)")


class EmbeddedError(Exception):
    """The embedded server could not be started; the message says why (and where the log is)."""


def server_command(*args: str) -> list[str]:
    """The command line of the bundled server CLI under this Python."""
    return [sys.executable, "-m", "server.cli", *args]


def server_environment() -> dict[str, str]:
    """The embedded server's environment: ours less `CODER_*`, which `inbox-server serve` reads as
    `coder server` does; set for a real deployment (access URL, database, mail), they must not reach the
    private local server."""
    return {name: value for name, value in os.environ.items() if not name.startswith("CODER_")}


def local_username() -> str:
    """A Coder-valid username for the local owner (letters, digits, single hyphens, at most 32)."""
    try:
        raw = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        raw = ""
    name = re.sub(r"[^a-zA-Z0-9]+", "-", raw).strip("-").lower()[:32].strip("-")
    return name or "owner"  # "me" is no valid username (/users/me is the caller)


def server_answers(url: str, timeout: float = 2.0) -> bool:
    """True if an API answers at `url` (`GET /api/v2/buildinfo`)."""
    # Imported here: finding the local server must not load httpx (`inbox-tui status`). Through
    # inbox_tui.api, which loads it without its command-line client.
    # isort: off
    import inbox_tui.api  # noqa: F401
    import httpx

    # isort: on

    try:
        response = httpx.get(f"{url}/api/v2/buildinfo", timeout=timeout, trust_env=False)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def stop_pid(pid: int, timeout: float = STOP_TIMEOUT, process: subprocess.Popen[bytes] | None = None) -> None:
    """Stop a server by PID: SIGTERM, then SIGKILL if it has not exited within `timeout`."""
    if process is not None and process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    if process is not None:
        try:
            process.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            pass
    else:
        while time.monotonic() < deadline and pid_alive(pid):
            time.sleep(0.05)
        if not pid_alive(pid):
            return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    if process is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)


# -- runtime file ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuntimeInfo:
    """What an open inbox publishes about the server it runs."""

    url: str
    token: str
    pid: int
    owner_pid: int
    db: str
    path: Path

    def owner_alive(self) -> bool:
        """True while the inbox that started the server is still running."""
        return pid_alive(self.owner_pid)


def runtime_path(demo: bool = True) -> Path:
    """Where the runtime file of the open demo inbox lives."""
    return state_dir() / DEMO_RUNTIME_FILE


def read_runtime(demo: bool = True) -> RuntimeInfo | None:
    """The demo runtime file, if it is there and well-formed (no liveness check)."""
    path = runtime_path(demo)
    text = read_text(path)
    if text is None:
        return None
    try:
        data: Any = json.loads(text)
        return RuntimeInfo(
            url=str(data["url"]),
            token=str(data["token"]),
            pid=int(data["pid"]),
            owner_pid=int(data.get("owner_pid", 0)),
            db=str(data.get("db", "")),
            path=path,
        )
    except (ValueError, KeyError, TypeError):
        return None


def find_running(demo: bool = True) -> RuntimeInfo | None:
    """The running demo server published by an open demo inbox: its PID alive and its URL answering."""
    info = read_runtime(demo)
    if info is None:
        return None
    if not pid_alive(info.pid):
        # Stale (the inbox crashed or the machine rebooted): clear it so nobody trips over it again.
        with contextlib.suppress(OSError):
            info.path.unlink()
        return None
    if not server_answers(info.url):
        return None  # alive but not answering (busy, or the PID was reused): leave the file to its owner
    return info


# -- the server process ---------------------------------------------------------------------------


@dataclass(slots=True)
class EmbeddedServer:
    """A running embedded server. `owned` servers are stopped by `stop()`; shared ones are left alone."""

    url: str
    token: str
    pid: int
    db_path: Path
    demo: bool = False
    owned: bool = True
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    temp_dir: Path | None = None
    published: Path | None = field(default=None)

    def publish(self) -> None:
        """Write the runtime file so other commands reach this server (an inbox is open)."""
        path = runtime_path(self.demo)
        data = {
            "url": self.url,
            "token": self.token,
            "pid": self.pid,
            "owner_pid": os.getpid(),
            "db": str(self.db_path),
        }
        write_private(path, json.dumps(data) + "\n")
        self.published = path

    def unpublish(self) -> None:
        """Remove the runtime file, if it still names this server."""
        if self.published is None:
            return
        info = read_runtime(self.demo)
        if info is not None and info.pid == self.pid:
            with contextlib.suppress(OSError):
                self.published.unlink()
        self.published = None

    def stop(self) -> None:
        """Unpublish and, if this process owns the server, stop it by PID (and drop a demo database)."""
        self.unpublish()
        if self.owned:
            stop_pid(self.pid, process=self.process)
            if self.temp_dir is not None:
                shutil.rmtree(self.temp_dir, ignore_errors=True)
                self.temp_dir = None
        self.owned = False


def _run_cli(args: list[str], what: str) -> str:
    try:
        result = subprocess.run(
            server_command(*args), capture_output=True, text=True, timeout=START_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EmbeddedError(f"cannot {what}: {exc}") from exc
    if result.returncode != 0:
        message = result.stderr.strip() or f"exit status {result.returncode}"
        raise EmbeddedError(f"cannot {what}: {message}")
    return result.stdout.strip()


def ensure_local_owner(db_path: Path, token_path: Path, username: str | None = None, *, reissue: bool = False) -> str:
    """The local owner's token: read from `token_path`, else created (user and token) and saved 0600.

    `reissue`: the saved token was refused (expired: tokens made before expiry existed got 30 days at the
    upgrade; or revoked): issue a new, non-expiring one for the same local owner.
    """
    token = read_text(token_path)
    if token and db_path.exists() and not reissue:
        return token
    if token and not db_path.exists():
        # A lost database must not be replaced silently by an empty one (every notification, user and
        # token would be gone without a word): say what happened and how to start afresh.
        raise EmbeddedError(
            f"the inbox database {db_path} is missing, but its token file {token_path} is still there: "
            f"the database was deleted or moved. Put it back, or start afresh by removing {token_path}."
        )
    # No token yet: a first run. Create the local owner and its token.
    name = username or local_username()
    ensure_private_dir(db_path.parent)
    create_token = ["tokens", "create", "--user", name, "--lifetime", "0", "--db", str(db_path)]
    if reissue:
        token = _run_cli(create_token, "create a token")
    else:
        try:
            token = _run_cli(
                # The local owner's token never expires (`--lifetime 0`): the client keeps it in a 0600 file.
                ["users", "create", "--username", name, "--role", "owner", "--lifetime", "0", "--db", str(db_path)],
                "create the local user",
            )
        except EmbeddedError as exc:
            if "already exists" not in str(exc):
                raise
            # The database survived but the token file did not: issue a new token for the same user.
            token = _run_cli(create_token, "create a token")
    token = token.splitlines()[-1].strip() if token else ""
    if not token:
        raise EmbeddedError("the server CLI printed no token")
    write_private(token_path, token + "\n")
    return token


def log_tail(path: Path, lines: int = 15) -> str:
    """The last `lines` lines of a server log ("" when it cannot be read), for an error message."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def start_server(
    db_path: Path, *, demo: bool = False, log_path: Path, timeout: float = START_TIMEOUT
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `serve` on 127.0.0.1 with a free port; return the process once it prints its URL."""
    ensure_private_dir(log_path.parent)
    args = ["serve", "--host", "127.0.0.1", "--port", "0", "--db", str(db_path)]
    if demo:
        args.append("--demo")
    with open_private(log_path, "wb") as log:
        try:
            process = subprocess.Popen(
                server_command(*args),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=server_environment(),
            )
        except OSError as exc:
            raise EmbeddedError(f"cannot start the embedded server: {exc}") from exc
    deadline = time.monotonic() + timeout
    while True:
        match = _LISTENING.search(log_tail(log_path, 50))
        if match:
            return process, match.group(1).rstrip("/")
        if process.poll() is not None:
            raise EmbeddedError(
                f"the embedded server exited with status {process.returncode} (log: {log_path})\n" + log_tail(log_path)
            )
        if time.monotonic() > deadline:
            stop_pid(process.pid, process=process)
            raise EmbeddedError(f"the embedded server did not start within {timeout:.0f} s (log: {log_path})")
        time.sleep(0.05)


def start_embedded(*, demo: bool = True) -> EmbeddedServer:
    """Start a demo server on a throwaway database and return a handle that owns it."""
    temp_dir = Path(tempfile.mkdtemp(prefix=DEMO_DIR_PREFIX))
    db_path = temp_dir / "demo.db"
    token_path = temp_dir / TOKEN_FILE
    log_path = state_dir() / DEMO_LOG_FILE
    try:
        try:
            token = ensure_local_owner(db_path, token_path)
            process, url = start_server(db_path, demo=demo, log_path=log_path)
        except OSError as exc:  # e.g. the data or state directory cannot be created
            where = f" ({exc.filename})" if exc.filename else ""
            raise EmbeddedError(f"cannot start the embedded server: {exc.strerror or exc}{where}") from exc
    except BaseException:
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
        raise
    return EmbeddedServer(
        url=url,
        token=token,
        pid=process.pid,
        db_path=db_path,
        demo=demo,
        owned=True,
        log_path=log_path,
        process=process,
        temp_dir=temp_dir,
    )


def embedded_server(*, demo: bool = True, long_lived: bool = False) -> EmbeddedServer:
    """The demo server: an open demo inbox's server is shared while its owner is alive.

    A demo server whose owner died is adopted (stopped when this command ends). Otherwise a new one is
    started. `long_lived` commands (the TUI, `watch`) publish the runtime file so others can find them.
    """
    info = find_running(demo)
    if info is not None:
        shared = EmbeddedServer(
            url=info.url,
            token=info.token,
            pid=info.pid,
            db_path=Path(info.db),
            demo=demo,
            owned=not info.owner_alive() and long_lived,
        )
        if shared.owned:
            parent = Path(info.db).parent
            if demo and parent.name.startswith(DEMO_DIR_PREFIX) and parent.parent == Path(tempfile.gettempdir()):
                shared.temp_dir = parent  # the dead owner's throwaway database
            shared.publish()
        return shared
    server = start_embedded(demo=demo)
    if long_lived:
        server.publish()
    return server
