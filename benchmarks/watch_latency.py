"""End-to-end watch latency: POST /notifications/custom until the frame arrives, 1,000 idle watchers open.

Run: .venv/bin/python -m benchmarks.watch_latency
Goal (issue 3): p50 <= 5 ms, p99 <= 25 ms (Coder's notifier polls every 15 s). Floor, same run: a bare
`websockets` server with the same 1,000 idle clients, where a message on the open socket broadcasts the
same frame back (no HTTP request, no database: the cost of the websocket path alone).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from benchmarks.harness import update_readme
from benchmarks.watch_common import WATCH_PATH, BareWebsockets, connect_many, percentile, rss_mb, seed_users
from tests.live_server import LiveServer


async def measure_ours(server: LiveServer, idle: list[tuple[str, str]], samples: int) -> tuple[list[float], str]:
    """Latencies in ms, and one frame (the floor broadcasts the same bytes)."""
    url = server.ws_url + WATCH_PATH
    idlers = await connect_many([(url, {"Coder-Session-Token": token}) for _, token in idle])
    [watch] = await connect_many([(url, server.headers())])
    latencies: list[float] = []
    frame = ""
    async with httpx.AsyncClient(base_url=server.url + "/api/v2", headers=server.headers(), timeout=30) as c:
        for i in range(samples + 20):  # the first 20 warm up
            title = f"latency {i} {uuid.uuid4().hex[:6]}"
            started = time.perf_counter()
            response = await c.post("/notifications/custom", json={"content": {"title": title, "message": "ping"}})
            received = await asyncio.wait_for(watch.recv(), 10)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 204 and isinstance(received, str) and title in received
            if i >= 20:
                latencies.append(elapsed)
            frame = received
    for ws in [*idlers, watch]:
        await ws.close()
    return latencies, frame


async def measure_floor(bare: BareWebsockets, idle: int, samples: int) -> list[float]:
    """Latencies in ms of trigger message -> broadcast frame on the bare server."""
    idlers = await connect_many([(bare.ws_url + "/watch", {}) for _ in range(idle)])
    [watch] = await connect_many([(bare.ws_url + "/watch?recipient=1", {})])
    latencies: list[float] = []
    for i in range(samples + 20):
        started = time.perf_counter()
        await watch.send("send")
        await asyncio.wait_for(watch.recv(), 10)
        elapsed = (time.perf_counter() - started) * 1000
        if i >= 20:
            latencies.append(elapsed)
    for ws in [*idlers, watch]:
        await ws.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle", type=int, default=1_000, help="idle watchers (one per user)")
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp))
        idle = asyncio.run(seed_users(server.db_path, args.idle))
        server.start()
        try:
            ours, frame = asyncio.run(measure_ours(server, idle, args.samples))
            server_rss = rss_mb(server.pid)
        finally:
            server.stop()
    with BareWebsockets(frame) as bare:
        floor = asyncio.run(measure_floor(bare, args.idle, args.samples))

    def row(name: str, values: list[float]) -> str:
        return f"| {name} | {percentile(values, 50):.2f} ms | {percentile(values, 99):.2f} ms | {max(values):.2f} ms |"

    lines = [
        f"Watch latency, POST to frame received, {args.idle:,} idle watchers connected, {args.samples} samples "
        f"({len(frame)} byte frame):",
        "",
        "| | p50 | p99 | max |",
        "|---|---|---|---|",
        row("inbox-server (POST /notifications/custom -> watch frame)", ours),
        row("bare websockets broadcast, message -> frame (floor)", floor),
        "",
        f"Goal p50 <= 5 ms, p99 <= 25 ms. Server RSS with {args.idle + 1:,} watchers: {server_rss:.0f} MB.",
        "Command: `.venv/bin/python -m benchmarks.watch_latency`",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_readme:
        update_readme("watch_latency", text)


if __name__ == "__main__":
    main()
