"""A real `inbox-server serve` subprocess on 127.0.0.1 with a temporary database, for tests and benchmarks."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from server.auth import DEFAULT_TOKEN_LIFETIME, generate_token
from server.records import ROLE_MEMBER, ROLE_OWNER
from server.store import open_store
from server.store.base import Store

READY_TIMEOUT = 30.0

T = TypeVar("T")


def on_store(db: str, action: Callable[[Store], Awaitable[T]]) -> T:
    """Run `action` on the store of `db` in this process, as `inbox-server users|tokens ...` would in its own.

    The administrative commands are a store opened beside the server, so doing the same here is as real and
    saves an interpreter start per user. A thread of its own: the caller may be inside a running event loop.
    """

    async def run() -> T:
        store = open_store(db)
        await store.open()
        try:
            return await action(store)
        finally:
            await store.close()

    with ThreadPoolExecutor(1, thread_name_prefix="live-server-admin") as pool:
        return pool.submit(asyncio.run, run()).result()


async def add_user(store: Store, username: str, role: str = "member", system: bool = False) -> str:
    """Create a user as `inbox-server users create` does and return a session token for it."""
    user = await store.create_user(
        username=username,
        email=f"{username}@localhost",
        name="",
        roles=[ROLE_OWNER] if role == ROLE_OWNER else [ROLE_MEMBER],
        is_system=system,
    )
    return await add_token(store, user.id)


async def add_token(store: Store, user_id: uuid.UUID) -> str:
    """A new session token (the CLI's default lifetime) for a user id."""
    token, row = generate_token(user_id, DEFAULT_TOKEN_LIFETIME)
    await store.create_api_token(row)
    return token


class LiveServer:
    """Start, stop, restart or kill a real server; create users and tokens (through the store, as its CLI does)."""

    def __init__(
        self,
        workdir: Path,
        *,
        db: str | None = None,
        args: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.env = dict(env or {})  # extra environment of the serve process (e.g. a fault-injection point)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.db_path = db or str(workdir / "inbox.db")
        self.args = list(args or [])
        self.port = 0
        self.url = ""
        self.proc: subprocess.Popen[str] | None = None
        self.log_path = workdir / "server.log"
        self.owner_username = "owner"
        self.member_username = "member"
        self.owner_token = ""
        self.member_token = ""

    # -- CLI ----------------------------------------------------------------------------------
    def cli(self, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        """Run `inbox-server ARGS --db <this db>` and return the finished process."""
        cmd = [sys.executable, "-m", "server.cli", *args]
        if args and args[0] != "serve":
            cmd += ["--db", self.db_path]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=60)

    def create_user(self, username: str, role: str = "member", system: bool = False) -> str:
        """Create a user and return a session token for it (through the store, as the CLI does)."""
        return on_store(self.db_path, lambda store: add_user(store, username, role, system))

    def create_token(self, username: str) -> str:
        """A further session token for an existing user."""

        async def token(store: Store) -> str:
            user = await store.get_user_by_username(username)
            if user is None:
                raise RuntimeError(f"no user {username!r}")
            return await add_token(store, user.id)

        return on_store(self.db_path, token)

    async def _add_owner_and_member(self, store: Store) -> tuple[str, str]:
        owner = await add_user(store, self.owner_username, ROLE_OWNER)
        return owner, await add_user(store, self.member_username, ROLE_MEMBER)

    # -- process ------------------------------------------------------------------------------
    def start(self) -> LiveServer:
        """Start the server (first time on a free port, afterwards on the same port) and wait until ready."""
        if not self.owner_token:
            # Both users in one store session before the one `serve` interpreter starts (through the CLI it
            # took an interpreter per user: three per server).
            self.owner_token, self.member_token = on_store(self.db_path, self._add_owner_and_member)
        cmd = [
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--db",
            self.db_path,
            *self.args,
        ]
        if not any(a in self.args for a in ("--api-rate-limit", "--dangerous-disable-rate-limits")):
            cmd.append("--dangerous-disable-rate-limits")
        log = open(self.log_path, "a")  # noqa: SIM115 - handed to the child, closed with it
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.kill()  # nothing left to kill: closes its pipe
                raise RuntimeError(f"server exited with {code}:\n{self.log_path.read_text()}")
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if ready:
                line = self.proc.stdout.readline()
                if line.startswith("listening on "):
                    self.url = line.split(" ", 2)[2].strip()
                    self.port = int(self.url.rsplit(":", 1)[1])
                    return self
        self.kill()
        raise RuntimeError(f"server not ready in {READY_TIMEOUT}s:\n{self.log_path.read_text()}")

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.proc is not None
        return self.proc.pid

    def stop(self, timeout: float = 15.0) -> int | None:
        """Graceful stop (SIGTERM, as an operator would), by PID."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        if self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None
        return code

    def kill(self) -> None:
        """SIGKILL, by PID: the crash case."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None

    def restart(self) -> LiveServer:
        """Stop gracefully and start again on the same port and database."""
        self.stop()
        return self.start()

    @property
    def ws_url(self) -> str:
        """Base websocket URL."""
        return "ws" + self.url[len("http") :]

    def headers(self, token: str | None = None) -> dict[str, str]:
        """Auth headers for a token (the owner's by default)."""
        return {"Coder-Session-Token": token or self.owner_token}
