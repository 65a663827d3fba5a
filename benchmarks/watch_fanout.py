"""Watch fan-out: 5,000 watchers, one per user, each sent its own notification in one burst.

Run: .venv/bin/python -m benchmarks.watch_fanout
Goal (issue 3): every notification delivered within 2 s, server RSS <= 300 MB.

The burst is 5,000 queued messages committed in one transaction (as a busy notifier would find them),
so the figure is the delivery path itself: lease, render, insert the inbox rows, publish, count unread
per user, build and send each frame. The notifier notices the cross-process commit on its sweep, which
this run sets to 50 ms (a POST wakes it at once). Floor, same run: a bare `websockets` server with
5,000 clients, sending each client the same frame.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

from websockets.asyncio.client import ClientConnection

from benchmarks.harness import update_readme
from benchmarks.watch_common import WATCH_PATH, BareWebsockets, connect_many, percentile, rss_mb, seed_users
from server.notify.enqueue import PAYLOAD_VERSION, dedupe_hash
from server.records import TEMPLATE_CUSTOM_NOTIFICATION, NotificationMessage, NotificationMethod, now_utc
from server.store.sqlite import SqliteStore
from tests.live_server import LiveServer

SWEEP = 0.05


def burst(users: list[tuple[str, str]]) -> list[NotificationMessage]:
    """One inbox message per user, shaped as the enqueuer shapes a custom notification."""
    created = now_utc()
    messages = []
    for i, (user_id, _) in enumerate(users):
        uid = uuid.UUID(user_id)
        labels = {"custom_title": f"Build {i} finished", "custom_message": f"Pipeline **{i}** is green."}
        payload = {
            "_version": PAYLOAD_VERSION,
            "notification_name": "Custom Notification",
            "notification_template_id": str(TEMPLATE_CUSTOM_NOTIFICATION),
            "user_id": user_id,
            "user_email": f"watcher{i}@example.com",
            "user_name": f"watcher{i}",
            "user_username": f"watcher{i}",
            "actions": [],
            "labels": labels,
            "data": {"burst": created.isoformat()},
            "targets": None,
        }
        messages.append(
            NotificationMessage(
                id=uuid.uuid4(),
                template_id=TEMPLATE_CUSTOM_NOTIFICATION,
                user_id=uid,
                method=NotificationMethod.INBOX,
                payload=payload,
                targets=None,
                created_by="benchmark",
                dedupe_hash=dedupe_hash(TEMPLATE_CUSTOM_NOTIFICATION, uid, "inbox", payload, None),
                created_at=created,
            )
        )
    return messages


async def arrivals(
    clients: list[ClientConnection], started: list[float], lag: list[float] | None = None
) -> list[float]:
    """Seconds from `started[0]` until each client got its frame; `lag` gets row-written-to-frame times."""

    async def one(ws: ClientConnection) -> float:
        frame = await asyncio.wait_for(ws.recv(), 120)
        if lag is not None:
            stamp = json.loads(frame)["notification"]["created_at"].replace("Z", "+00:00")
            lag.append(time.time() - datetime.fromisoformat(stamp).timestamp())
        return time.perf_counter() - started[0]

    return list(await asyncio.gather(*(one(ws) for ws in clients)))


async def measure_ours(
    server: LiveServer, users: list[tuple[str, str]]
) -> tuple[list[float], list[float], float, float]:
    """Delivery times (s) after the commit, frame-after-row times (s), idle and peak RSS (MB)."""
    url = server.ws_url + WATCH_PATH
    clients = await connect_many([(url, {"Coder-Session-Token": token}) for _, token in users])
    idle_rss = rss_mb(server.pid)
    peak = [idle_rss]

    async def sample() -> None:
        while True:
            peak[0] = max(peak[0], rss_mb(server.pid))
            await asyncio.sleep(0.02)

    sampler = asyncio.create_task(sample())
    store = SqliteStore(server.db_path)
    await store.open()
    messages = burst(users)
    started = [0.0]
    lag: list[float] = []
    waiting = asyncio.create_task(arrivals(clients, started, lag))
    try:
        await store.enqueue_messages(messages)
        started[0] = time.perf_counter()  # committed: the burst is in the queue
        times = await waiting
        await asyncio.sleep(0.2)
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        await store.close()
    for ws in clients:
        await ws.close()
    return times, lag, idle_rss, peak[0]


async def measure_floor(bare: BareWebsockets, count: int) -> list[float]:
    """Delivery times (s) of the bare server's burst."""
    clients = await connect_many([(bare.ws_url + "/watch", {}) for _ in range(count)])
    [control] = await connect_many([(bare.ws_url + "/control", {})])
    started = [0.0]
    waiting = asyncio.create_task(arrivals(clients, started))
    await asyncio.sleep(0)
    started[0] = time.perf_counter()
    await control.send("burst")
    times = await waiting
    for ws in [*clients, control]:
        await ws.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--watchers", type=int, default=5_000)
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp), args=["--fetch-interval", str(SWEEP)])
        users = asyncio.run(seed_users(server.db_path, args.watchers))
        server.start()
        try:
            ours, lag, idle_rss, peak_rss = asyncio.run(measure_ours(server, users))
        finally:
            server.stop()
    frame_example = (
        '{"notification":{"id":"00000000-0000-0000-0000-000000000000","user_id":"00000000-0000-0000-0000-'
        '000000000000","template_id":"39b1e189-c857-4b0c-877a-511144c18516","targets":null,"title":"Build 1 '
        'finished","content":"Pipeline **1** is green.","icon":"DEFAULT_ICON_OTHER","actions":[],"read_at":null,'
        '"created_at":"2026-01-01T00:00:00.000000Z"},"unread_count":1}\n'
    )
    with BareWebsockets(frame_example) as bare:
        floor = asyncio.run(measure_floor(bare, args.watchers))

    def row(name: str, values: list[float]) -> str:
        return (
            f"| {name} | {percentile(values, 50) * 1000:.0f} ms | {percentile(values, 99) * 1000:.0f} ms "
            f"| {max(values) * 1000:.0f} ms |"
        )

    lines = [
        f"Watch fan-out: {args.watchers:,} watchers, one per user, each sent its own notification in one burst:",
        "",
        "| | p50 delivered | p99 delivered | all delivered |",
        "|---|---|---|---|",
        row(f"inbox-server (queue commit -> frame; sweep {SWEEP * 1000:.0f} ms)", ours),
        row("bare websockets, one frame per client (floor)", floor),
        row("inbox-server, inbox row written -> frame received (the hub's share)", lag),
        "",
        f"Goal: all within 2 s, server RSS <= 300 MB. Server RSS: {idle_rss:.0f} MB with the watchers idle, "
        f"{peak_rss:.0f} MB peak during the burst.",
        "Command: `.venv/bin/python -m benchmarks.watch_fanout`",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_readme:
        update_readme("watch_fanout", text)


if __name__ == "__main__":
    main()
