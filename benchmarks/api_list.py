"""Inbox list page + unread_count on a user with 100,000 notifications, beside a bare uvicorn endpoint.

Run: .venv/bin/python -m benchmarks.api_list   (needs wrk: apt-get install -y wrk)
Goal (issue 2): p50 <= 2 ms and at least 0.25x the bare endpoint's throughput.
Goal (issue 13): with --prometheus-enable, within 5% of the throughput without (measured in the same run,
the two servers alternating on the same database).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from benchmarks.harness import BareServer, WrkResult, update_readme, wrk
from server.records import InboxNotification
from server.store.sqlite import SqliteStore
from tests.live_server import LiveServer

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


def metrics_overhead(
    server: LiveServer, url: str, headers: dict[str, str], seconds: float, rounds: int
) -> tuple[list[WrkResult], list[WrkResult]]:
    """The list endpoint with metrics off and on, alternating restarts of one server on one database.

    Each round measures both (off first, then on) so drift on a shared machine hits both alike. Each
    measurement is a 1-connection latency run and a 32-connection throughput run.
    """
    plain = list(server.args)
    off: list[WrkResult] = []
    on: list[WrkResult] = []
    for _ in range(rounds):
        for enabled, results in ((False, off), (True, on)):
            server.args = [*plain, "--prometheus-enable", "--prometheus-address", "127.0.0.1:0"] if enabled else plain
            server.restart()
            wrk(url, connections=8, seconds=2, headers=headers)  # warm-up
            latency = wrk(url, connections=1, seconds=seconds / 2, headers=headers)
            throughput = wrk(url, connections=32, seconds=seconds, headers=headers)
            throughput.p50 = latency.p50
            results.append(throughput)
    server.args = plain
    return off, on


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--metrics-rounds", type=int, default=3, help="metrics off/on alternations")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp), args=["--dangerous-disable-rate-limits"]).start()
        try:
            headers = server.headers()
            me = httpx.get(server.url + "/api/v2/users/me", headers=headers).json()
            asyncio.run(seed(server.db_path, uuid.UUID(me["id"]), args.rows))
            url = server.url + "/api/v2/notifications/inbox"
            body = httpx.get(url, headers=headers).content
            assert len(httpx.get(url, headers=headers).json()["notifications"]) == 25
            with BareServer(body) as bare:
                wrk(bare.url, connections=8, seconds=2)  # warm-up
                wrk(url, connections=8, seconds=2, headers=headers)
                ours_lat = wrk(url, connections=1, seconds=args.seconds, headers=headers)
                bare_lat = wrk(bare.url, connections=1, seconds=args.seconds)
                ours_tp = wrk(url, connections=32, seconds=args.seconds, headers=headers)
                bare_tp = wrk(bare.url, connections=32, seconds=args.seconds)
            metrics_off, metrics_on = metrics_overhead(server, url, headers, args.seconds, args.metrics_rounds)
        finally:
            server.stop()
    assert ours_tp.non_2xx == 0 and ours_lat.non_2xx == 0
    ratio = ours_tp.rps / bare_tp.rps
    off_rps = statistics.median(r.rps for r in metrics_off)
    on_rps = statistics.median(r.rps for r in metrics_on)
    overhead = 1 - on_rps / off_rps
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
        f"Metrics (`--prometheus-enable`) on vs off, same database, alternating {len(metrics_on)}x, 32 conns:",
        f"median {on_rps:,.0f} req/s on vs {off_rps:,.0f} req/s off, {overhead:+.1%} overhead (goal <= 5%);",
        f"p50 (1 conn) {statistics.median(r.p50 for r in metrics_on):.2f} ms on vs "
        f"{statistics.median(r.p50 for r in metrics_off):.2f} ms off.",
        "Command: `.venv/bin/python -m benchmarks.api_list`",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_readme:
        update_readme("api_list", text)


if __name__ == "__main__":
    main()
