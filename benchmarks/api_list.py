"""Inbox list page + unread_count on a user with 100,000 notifications, beside a bare uvicorn endpoint.

Run: .venv/bin/python -m benchmarks.api_list   (needs wrk: apt-get install -y wrk)
Goal (issue 2): p50 <= 2 ms and at least 0.25x the bare endpoint's throughput.
Goal (issue 13): with --prometheus-enable, within 5% of the throughput without (measured in the same run,
two servers side by side on copies of the database).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from benchmarks.harness import BareServer, WrkResult, update_readme, wrk
from server.app import InboxServer
from server.config import ServerConfig
from server.records import InboxNotification
from server.store.sqlite import SqliteStore
from tests.live_server import LiveServer

LIST_PATH = "/api/v2/notifications/inbox"
OOM = uuid.UUID("a9d027b4-ac49-4fb1-9f6d-45af15f64e7a")


async def seed(db: str, user_id: uuid.UUID, count: int) -> None:
    """Bulk-insert `count` notifications, a third of them read."""
    store = SqliteStore(db)
    await store.open()
    start = datetime.now(UTC) - timedelta(days=30)
    batch: list[InboxNotification] = []
    for i in range(count):
        created = start + timedelta(seconds=i * 25)
        batch.append(
            InboxNotification(
                id=uuid.uuid4(),
                user_id=user_id,
                template_id=OOM,
                targets=(uuid.uuid4(),),
                title=f'Your workspace "ws-{i}" is low on memory',
                content=f"Your workspace **ws-{i}** has reached the memory usage threshold set at **90%**.",
                icon="",
                actions=({"label": "View workspace", "url": f"http://127.0.0.1/@owner/ws-{i}"},),
                read_at=created if i % 3 == 0 else None,
                created_at=created,
            )
        )
        if len(batch) == 5000:
            await store.insert_inbox_notifications(batch)
            batch = []
    if batch:
        await store.insert_inbox_notifications(batch)
    await store.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Measured:
    """One throughput run with its 1-connection p50 and the server's CPU time per request."""

    result: WrkResult
    cpu_us_per_request: float


def metrics_overhead(
    server: LiveServer, headers: dict[str, str], seconds: float, rounds: int
) -> tuple[list[Measured], list[Measured]]:
    """The list endpoint with metrics off and on: two servers side by side on two copies of one database.

    Every round restarts both with the modes swapped between the copies and measures them back to back
    (the order flips too), so neither a database copy nor a process nor the drift of a shared machine
    favours one mode. Each measurement is a 32-connection throughput run, with the p50 of a 1-connection
    run just before it. The server's CPU time per request is the steadier figure on a busy machine:
    throughput swings with whatever else runs, the work per request does not.
    """
    plain = list(server.args)
    metered_args = [*plain, "--prometheus-enable", "--prometheus-address", "127.0.0.1:0"]
    server.stop()  # closing the last connection checkpoints the WAL, so the file copies whole
    workdir = Path(server.db_path).parent
    copy = workdir / "copy.db"
    shutil.copyfile(server.db_path, copy)
    twin = LiveServer(workdir / "twin", db=str(copy), args=plain)
    twin.owner_token, twin.member_token = server.owner_token, server.member_token  # the same users
    off: list[Measured] = []
    on: list[Measured] = []
    try:
        for round_no in range(rounds):
            metered, plain_server = (server, twin) if round_no % 2 else (twin, server)
            metered.args, plain_server.args = metered_args, plain
            pairs = [(plain_server, off), (metered, on)]
            for target, _ in pairs:
                target.start()
                wrk(target.url + LIST_PATH, connections=8, seconds=2, headers=headers)  # warm-up
            for target, results in pairs if round_no % 4 < 2 else pairs[::-1]:
                url = target.url + LIST_PATH
                latency = wrk(url, connections=1, seconds=max(1.0, seconds / 2), headers=headers)
                cpu_before = cpu_seconds(target.pid)
                throughput = wrk(url, connections=32, seconds=seconds, headers=headers)
                cpu = cpu_seconds(target.pid) - cpu_before
                throughput.p50 = latency.p50
                results.append(Measured(throughput, cpu / max(1, throughput.requests) * 1e6))
            for target, _ in pairs:
                target.stop()
    finally:
        twin.stop()
        server.args = plain
        server.start()  # as the caller left it
    assert all(m.result.non_2xx == 0 for m in off + on)
    return off, on


async def in_process_overhead(db: str, token: str, rounds: int, requests: int) -> tuple[list[float], list[float]]:
    """Microseconds per list request through the ASGI app itself, metrics off and on, in one process.

    One app on one store; the metrics are switched off and on between blocks of requests, alternating,
    so nothing but the metrics differs. No HTTP parsing (identical either way), so the relative overhead
    here is an upper bound of the end-to-end one.
    """
    app = InboxServer(
        ServerConfig(
            db=db,
            access_url="http://127.0.0.1",
            disable_rate_limits=True,
            prometheus_enable=True,
            prometheus_address="127.0.0.1:0",
        )
    )
    await app.startup()
    metrics = app.metrics
    scope = {
        "type": "http",
        "method": "GET",
        "path": LIST_PATH,
        "headers": [(b"coder-session-token", token.encode())],
        "query_string": b"",
        "client": ("127.0.0.1", 40000),
    }
    statuses: list[int] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    off: list[float] = []
    on: list[float] = []
    try:
        for round_no in range(rounds + 1):
            for enabled in (False, True) if round_no % 2 == 0 else (True, False):
                app.metrics = metrics if enabled else None
                started = time.perf_counter()
                for _ in range(requests):
                    await app(scope, receive, send)
                per_request = (time.perf_counter() - started) / requests * 1e6
                if round_no:  # the first round warms up
                    (on if enabled else off).append(per_request)
    finally:
        app.metrics = metrics
        await app.shutdown()
    assert set(statuses) == {200}, set(statuses)
    return off, on


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--metrics-rounds", type=int, default=6, help="metrics off/on alternations")
    parser.add_argument("--in-process-requests", type=int, default=3000, help="per block, in-process A/B")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp), args=["--dangerous-disable-rate-limits"]).start()
        try:
            headers = server.headers()
            me = httpx.get(server.url + "/api/v2/users/me", headers=headers).json()
            asyncio.run(seed(server.db_path, uuid.UUID(me["id"]), args.rows))
            url = server.url + LIST_PATH
            body = httpx.get(url, headers=headers).content
            assert len(httpx.get(url, headers=headers).json()["notifications"]) == 25
            with BareServer(body) as bare:
                wrk(bare.url, connections=8, seconds=2)  # warm-up
                wrk(url, connections=8, seconds=2, headers=headers)
                ours_lat = wrk(url, connections=1, seconds=args.seconds, headers=headers)
                bare_lat = wrk(bare.url, connections=1, seconds=args.seconds)
                ours_tp = wrk(url, connections=32, seconds=args.seconds, headers=headers)
                bare_tp = wrk(bare.url, connections=32, seconds=args.seconds)
            metrics_off, metrics_on = metrics_overhead(server, headers, args.seconds, args.metrics_rounds)
        finally:
            server.stop()
        app_off, app_on = asyncio.run(
            in_process_overhead(server.db_path, server.owner_token, 2 * args.metrics_rounds, args.in_process_requests)
        )
    assert ours_tp.non_2xx == 0 and ours_lat.non_2xx == 0
    ratio = ours_tp.rps / bare_tp.rps
    off_rps = statistics.median(m.result.rps for m in metrics_off)
    on_rps = statistics.median(m.result.rps for m in metrics_on)
    off_cpu = statistics.median(m.cpu_us_per_request for m in metrics_off)
    on_cpu = statistics.median(m.cpu_us_per_request for m in metrics_on)
    cpu_overhead = on_cpu / off_cpu - 1
    lines = [
        f"Inbox list page + unread_count, {args.rows:,} notifications on the user ({len(body):,} byte page):",
        "",
        "| | p50 (1 conn) | p99 (1 conn) | req/s (32 conns) |",
        "|---|---|---|---|",
        f"| inbox-server | {ours_lat.p50:.2f} ms | {ours_lat.p99:.2f} ms | {ours_tp.rps:,.0f} |",
        f"| bare uvicorn, fixed body (floor) | {bare_lat.p50:.2f} ms | {bare_lat.p99:.2f} ms | {bare_tp.rps:,.0f} |",
        "",
        f"Throughput ratio {ratio:.2f}x of the floor (goal >= 0.25x); p50 goal <= 2 ms.",
        "",
        "Metrics (`--prometheus-enable`) on vs off: two servers side by side on copies of the database (modes swapped",
        f"each round), {len(metrics_on)} rounds of 32 conns: median {on_rps:,.0f} req/s on vs {off_rps:,.0f} off",
        f"({on_rps / off_rps - 1:+.1%}); server CPU per request {on_cpu:.0f} us on vs {off_cpu:.0f} us off "
        f"({cpu_overhead:+.1%}, goal <= +5%);",
        f"p50 (1 conn) {statistics.median(m.result.p50 for m in metrics_on):.2f} ms on vs "
        f"{statistics.median(m.result.p50 for m in metrics_off):.2f} ms off.",
        f"Rounds, req/s off: {', '.join(f'{m.result.rps:,.0f}' for m in metrics_off)}; "
        f"on: {', '.join(f'{m.result.rps:,.0f}' for m in metrics_on)}.",
        f"In process, one app and store, metrics switched between {len(app_on)} alternating blocks of "
        f"{args.in_process_requests:,} requests: median {statistics.median(app_on):.1f} us per request on vs "
        f"{statistics.median(app_off):.1f} us off ({statistics.median(app_on) / statistics.median(app_off) - 1:+.1%}).",
        "Command: `.venv/bin/python -m benchmarks.api_list`",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_readme:
        update_readme("api_list", text)


if __name__ == "__main__":
    main()
