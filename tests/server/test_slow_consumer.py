"""One watcher stops reading while twenty keep reading a burst of 3,000 notifications.

The twenty must get every notification, the stalled one must be closed with 1013 within twice the send
timeout of the moment its socket stopped taking data, and the server's memory must stay flat.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import datetime
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection

from tests.live_server import LiveServer
from tests.server.watch_helpers import RawWatch, open_watch, watch_url

HEALTHY = 20
TOTAL = 3_000
WARM_UP = 300
SEND_TIMEOUT = 1.0
POST_CONCURRENCY = 16
BODY = "x" * 1_000  # ~1.3 KB frames: a stalled socket fills its buffers after a few hundred
# Growth allowed between the warm-up and the end of the burst. Without any watcher the server grows by
# about 4 KB per notification here until SQLite's page caches are full (~16 MB, measured); the watchers
# must add nothing that scales with the burst (the stalled one is held to its bounded queue).
RSS_GROWTH_LIMIT_MB = 24.0
EVICTION_LINE = re.compile(r"^(\S+ \S+) \[warn\] server\.hub: watch: evicted watcher .* with 1013 \((.*)\)$")


def rss_mb(pid: int) -> float:
    """Resident set size of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def evictions(server: LiveServer) -> list[tuple[float, str]]:
    """The 1013 evictions the server logged: (when, why)."""
    found = []
    for line in server.log_path.read_text().splitlines():
        match = EVICTION_LINE.match(line)
        if match:
            when = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
            found.append((when, match.group(2)))
    return found


async def post_burst(server: LiveServer, start: int, stop: int) -> None:
    """POST custom notifications `start..stop-1` to the owner, a few at a time."""
    numbers = iter(range(start, stop))
    async with httpx.AsyncClient(base_url=server.url + "/api/v2", headers=server.headers(), timeout=60) as c:

        async def worker() -> None:
            for i in numbers:
                response = await c.post(
                    "/notifications/custom", json={"content": {"title": f"burst {i}", "message": BODY}}
                )
                assert response.status_code == 204, response.text

        await asyncio.gather(*(worker() for _ in range(POST_CONCURRENCY)))


async def read_all(ws: ClientConnection, count: int, seen: dict[str, float]) -> None:
    """Read `count` frames, noting when each notification was created (server clock, same host)."""
    for _ in range(count):
        raw = await asyncio.wait_for(ws.recv(), 60)
        assert isinstance(raw, str) and raw.endswith("\n")
        n = json.loads(raw)["notification"]
        seen[n["title"]] = datetime.fromisoformat(n["created_at"].replace("Z", "+00:00")).timestamp()


async def test_stalled_watcher_is_evicted_and_the_others_get_everything(tmp_path: Path) -> None:
    server = LiveServer(
        tmp_path / "server", args=["--watch-send-timeout", str(SEND_TIMEOUT), "--log-level", "warning"]
    ).start()
    try:
        healthy = [await open_watch(server) for _ in range(HEALTHY)]
        stalled = await RawWatch.connect(watch_url(server), server.headers(), rcvbuf=4096)
        seen: list[dict[str, float]] = [{} for _ in healthy]

        # Warm-up: every code path has run once before the baseline is taken.
        readers = [asyncio.create_task(read_all(ws, TOTAL, s)) for ws, s in zip(healthy, seen, strict=True)]
        await post_burst(server, 0, WARM_UP)
        async with asyncio.timeout(60):
            while min(len(s) for s in seen) < WARM_UP:  # noqa: ASYNC110 - polling other tasks' progress
                await asyncio.sleep(0.05)
        baseline = rss_mb(server.pid)

        started = time.monotonic()
        burst = asyncio.create_task(post_burst(server, WARM_UP, TOTAL))
        # The stalled client wakes up once the server reports the eviction, and reads what it was sent:
        # the frames from before it stalled, then the close frame.
        async with asyncio.timeout(60):
            while not evictions(server):  # noqa: ASYNC110 - watching another process's log
                await asyncio.sleep(0.02)
        close = await stalled.wait_closed(within=30)
        stalled.close()
        await burst
        await asyncio.wait_for(asyncio.gather(*readers), 120)
        elapsed = time.monotonic() - started
        after = rss_mb(server.pid)

        # Every healthy watcher got every notification, exactly once.
        expected = {f"burst {i}" for i in range(TOTAL)}
        for s in seen:
            assert set(s) == expected

        assert close is not None and close.code == 1013, close
        got = len(stalled.texts)
        assert 0 < got < TOTAL
        for healthy_ws in healthy:
            await healthy_ws.close()
    finally:
        server.stop()

    # When it stalled: no earlier than the creation of the first notification it never got (the hub
    # offers each notification to every watcher as soon as it is committed). Measured on the server's
    # clock, so the healthy readers' own lag does not count.
    last_sent = json.loads(stalled.texts[-1])["notification"]["title"]
    order = sorted(seen[0], key=lambda title: seen[0][title])
    stall_started = seen[0][order[order.index(last_sent) + 1]]

    found = evictions(server)
    assert len(found) == 1, f"exactly the stalled watcher is evicted: {found}"
    evicted_at, reason = found[0]
    assert evicted_at - stall_started <= 2 * SEND_TIMEOUT, (evicted_at - stall_started, got, reason)

    growth = after - baseline
    assert growth <= RSS_GROWTH_LIMIT_MB, f"server RSS grew {growth:.1f} MB ({baseline:.1f} -> {after:.1f})"
    print(
        f"\nstalled watcher got {got} frames, evicted ({reason}) {evicted_at - stall_started:.2f} s after "
        f"stalling; {TOTAL - WARM_UP} notifications x {HEALTHY} readers in {elapsed:.1f} s; "
        f"server RSS {baseline:.1f} -> {after:.1f} MB"
    )
