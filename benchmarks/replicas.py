"""Two replicas over PostgreSQL beside one process on SQLite, in the same run on the same machine.

- Cross-replica POST-to-frame latency: a watcher on replica 1, POST /notifications/custom on replica 2, one
  at a time; the time from sending the POST to the watch frame arriving (enqueue, notifier, inbox insert,
  NOTIFY, the other replica's listener, hub, socket). SQLite: POST and watch on the one process.
- Sustained POST rate: wrk against both replicas at once (half the connections each), and the rate at
  which the notifications reach the inbox. SQLite: one wrk with all the connections.

Run: .venv/bin/python -m benchmarks.replicas   (needs wrk and PostgreSQL binaries, or --dsn)
PostgreSQL runs as a private cluster with fsync=off and synchronous_commit=on, which, like SQLite's WAL with
synchronous=NORMAL, keeps every acknowledged commit across a process crash but not across a power cut.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from benchmarks.harness import WrkResult, update_readme, wrk
from tests.live_server import LiveServer
from tests.pg import create_database, drop_database, shared_cluster

WATCH = "/api/v2/notifications/inbox/watch"
CUSTOM = "/api/v2/notifications/custom"
INBOX = "/api/v2/notifications/inbox"

# Unique titles per wrk process: identical content would be deduplicated.
POST_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  local body = '{"content":{"title":"%(prefix)s ' .. n .. '","message":"sustained rate"}}'
  return wrk.format(nil, nil, nil, body)
end
"""


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def post_to_frame(watch_on: LiveServer, post_on: LiveServer, samples: int, warmup: int) -> list[float]:
    """Milliseconds from sending a POST on one server to its frame on a watcher of another (or the same)."""
    token = watch_on.member_token
    latencies: list[float] = []
    async with (
        connect(watch_on.ws_url + WATCH, additional_headers=watch_on.headers(token), max_size=None) as ws,
        httpx.AsyncClient(timeout=30) as client,
    ):
        for i in range(warmup + samples):
            title = f"latency {i} {time.time_ns()}"
            started = time.perf_counter()
            response = await client.post(
                post_on.url + CUSTOM,
                headers=post_on.headers(token),
                json={"content": {"title": title, "message": "latency"}},
            )
            assert response.status_code == 204, response.text
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if frame["notification"]["title"] == title:
                    break
            if i >= warmup:
                latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def sustained(servers: Sequence[LiveServer], connections: int, seconds: int) -> tuple[float, float, int]:
    """wrk on every server at once: (accepted POSTs/s, delivered to the inbox/s, non-2xx responses)."""
    results: list[WrkResult | BaseException | None] = [None] * len(servers)
    per_server = max(1, connections // len(servers))

    def run(index: int, server: LiveServer) -> None:
        try:
            results[index] = wrk(
                server.url + CUSTOM,
                connections=per_server,
                seconds=seconds,
                headers=server.headers(server.member_token),
                script=POST_SCRIPT % {"prefix": f"bench r{index} {time.time_ns()}"},
            )
        except BaseException as exc:  # re-raised on the main thread
            results[index] = exc

    with httpx.Client(timeout=30) as client:
        inbox = servers[0].url + INBOX
        headers = servers[0].headers(servers[0].member_token)
        before = client.get(inbox, headers=headers).json()["unread_count"]
        started = time.monotonic()
        threads = [threading.Thread(target=run, args=(i, s)) for i, s in enumerate(servers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done: list[WrkResult] = []
        for result in results:
            if not isinstance(result, WrkResult):
                raise RuntimeError(f"wrk failed: {result!r}")
            done.append(result)
        accepted = sum(r.requests - r.non_2xx for r in done)
        rps = sum(r.rps for r in done)
        # The end-to-end rate: until every accepted notification is in the inbox.
        deadline = time.monotonic() + 120
        while True:
            unread = client.get(inbox, headers=headers).json()["unread_count"] - before
            if unread >= accepted or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        delivered = unread / (time.monotonic() - started)
    return rps, delivered, sum(r.non_2xx for r in done)


def latency_row(name: str, lat: list[float]) -> str:
    """One row of the latency table."""
    return f"| {name} | {statistics.median(lat):.1f} ms | {percentile(lat, 99):.1f} ms |"


def rate_row(name: str, rate: tuple[float, float, int]) -> str:
    """One row of the throughput table."""
    return f"| {name} | {rate[0]:,.0f} | {rate[1]:,.0f} | {rate[2]} |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=300, help="latency samples per setup")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration (whole seconds, as wrk wants)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections in total")
    parser.add_argument("--dsn", default="", help="PostgreSQL server to use instead of a private cluster")
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()
    server_dsn = args.dsn or shared_cluster().dsn
    dsn = create_database(server_dsn)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        # Single process on SQLite.
        single = LiveServer(base / "sqlite").start()
        try:
            sqlite_lat = asyncio.run(post_to_frame(single, single, args.samples, warmup=20))
            sqlite_rate = sustained([single], args.connections, args.seconds)
        finally:
            single.stop()
        # Two replicas on PostgreSQL.
        r1 = LiveServer(base / "r1", db=dsn).start()
        r2 = LiveServer(base / "r2", db=dsn)
        r2.owner_token, r2.member_token = r1.owner_token, r1.member_token
        try:
            r2.start()
            pg_lat = asyncio.run(post_to_frame(r1, r2, args.samples, warmup=20))
            pg_local_lat = asyncio.run(post_to_frame(r1, r1, args.samples, warmup=20))
            pg_rate = sustained([r1, r2], args.connections, args.seconds)
        finally:
            r1.stop()
            r2.stop()
    drop_database(server_dsn, dsn)
    lines = [
        f"POST /notifications/custom to the watch frame, {args.samples} sequential samples:",
        "",
        "| setup | p50 | p99 |",
        "|---|---|---|",
        latency_row("one process, SQLite", sqlite_lat),
        latency_row("2 replicas on PostgreSQL: POST on replica 2, watch on replica 1", pg_lat),
        latency_row("2 replicas on PostgreSQL: POST and watch on replica 1", pg_local_lat),
        "",
        f"Sustained POST /notifications/custom, wrk with {args.connections} connections for {args.seconds} s"
        " (split over the replicas):",
        "",
        "| setup | POSTs/s accepted (204) | delivered to the inbox/s | non-2xx |",
        "|---|---|---|---|",
        rate_row("one process, SQLite", sqlite_rate),
        rate_row("2 replicas on PostgreSQL", pg_rate),
        "",
        "Both replicas, PostgreSQL (fsync=off, synchronous_commit=on) and wrk share the machine's cores.",
        "Command: `.venv/bin/python -m benchmarks.replicas`",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_readme:
        update_readme("replicas", text)


if __name__ == "__main__":
    main()
