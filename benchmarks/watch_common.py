"""Shared pieces of the watch benchmarks: seeded users, websocket clients, the bare websockets floor."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import websockets
from websockets.asyncio.client import ClientConnection

from benchmarks.harness import ROOT, free_port, wait_for_port
from server.auth import generate_token
from server.store.sqlite import SqliteStore

WATCH_PATH = "/api/v2/notifications/inbox/watch"


def rss_mb(pid: int) -> float:
    """Resident set size of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]


async def seed_users(db: str, count: int, prefix: str = "watcher") -> list[tuple[str, str]]:
    """Create `count` members with one session token each, straight in the database: (user id, token)."""
    store = SqliteStore(db)
    await store.open()
    try:

        async def one(i: int) -> tuple[str, str]:
            user = await store.create_user(
                username=f"{prefix}{i}", email=f"{prefix}{i}@example.com", name="", roles=["member"]
            )
            token, row = generate_token(user.id)
            await store.create_api_token(row)
            return str(user.id), token

        out: list[tuple[str, str]] = []
        for start in range(0, count, 500):  # concurrent writes share the writer's batched commits
            out += await asyncio.gather(*(one(i) for i in range(start, min(count, start + 500))))
        return out
    finally:
        await store.close()


async def connect_many(
    urls_and_headers: list[tuple[str, dict[str, str]]], concurrency: int = 200
) -> list[ClientConnection]:
    """Open many websocket clients, a few hundred handshakes at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(url: str, headers: dict[str, str]) -> ClientConnection:
        async with gate:
            return await websockets.connect(
                url, additional_headers=headers, ping_interval=None, open_timeout=60, max_queue=None
            )

    return list(await asyncio.gather(*(one(u, h) for u, h in urls_and_headers)))


class BareWebsockets:
    """The floor: a bare `websockets` server (benchmarks.bare_ws) that broadcasts a fixed payload."""

    def __init__(self, payload: str) -> None:
        self.payload_file = tempfile.NamedTemporaryFile("w", delete=False, suffix=".json")  # noqa: SIM115
        self.payload_file.write(payload)
        self.payload_file.close()
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> BareWebsockets:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.bare_ws", str(self.port), self.payload_file.name], env=env
        )
        wait_for_port(self.port, "bare websockets server")
        return self

    @property
    def url(self) -> str:
        """Its base URL (http)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """Its base URL (ws)."""
        return f"ws://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait()
        os.unlink(self.payload_file.name)
