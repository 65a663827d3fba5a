"""Hostile clients and faults against a real server on 127.0.0.1, for each backend available (issue 12).

Run: .venv/bin/python -m benchmarks.abuse [--backend sqlite] [--case flood] [--no-readme] [--readme]

A full run (every case, both backends) writes its table into README (Reliability) unless --no-readme; a
partial run (--case or --backend) only prints it, unless --readme.

Each case is an entry in CASES: a name and a coroutine that gets a `Bench` (the backend, and a way to
start a server on it) and returns table rows. Add a case by writing one such coroutine and listing it.
Every loop is bounded in count and in time, and only 127.0.0.1 is ever contacted.

Cases so far:
- flood: unauthenticated requests with distinct paths (16 KB, refused by the URL limit, and 8,000 bytes,
  which reach the rate limiter and the 401 path): the server's RSS before and after.
- slowloris: connections that send part of a request head and stop; a healthy client's latency while they
  are held, against the same client without them; and when the server closed them.
- watchers: one member asks for 500 watch sockets; at most --max-watchers-per-user are opened.
- bad_input: every bad input of section 2 (benchmarks/abuse_inputs.py) and the request-head limits, each
  on its own connection: how many were tried and how many were answered 5xx (must be 0).
- preferences_map: two clients PUT a 90,000-id (4 MiB) preferences map, at the issue's rate and in a loop;
  another user's POST /notifications/custom p50 during vs without.
- sigkill: a burst of custom notifications, kill -9 mid-burst, restart: acknowledged (204) vs present in
  the inbox afterwards (must be equal).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import secrets
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidStatus, WebSocketException

from benchmarks import abuse_inputs
from benchmarks.harness import update_readme
from benchmarks.watch_common import percentile, rss_mb
from tests.live_server import LiveServer
from tests.pg import create_database, drop_database, server_dsn_or_reason

HOST = "127.0.0.1"  # the only address this benchmark ever connects to


@dataclass
class Row:
    """One line of the table."""

    case: str
    measure: str
    value: str
    target: str = ""
    ok: bool | None = None


@dataclass
class Bench:
    """What a case gets: the backend's name and a way to start servers on it."""

    backend: str
    server_dsn: str | None  # a PostgreSQL server (a fresh database per server), or None for SQLite
    workdir: Path
    _count: int = 0
    _databases: list[str] = field(default_factory=list)

    @contextlib.asynccontextmanager
    async def server(self, *args: str, open_files: int | None = None) -> AsyncIterator[LiveServer]:
        """A fresh server and database for one case, stopped afterwards.

        `open_files` starts it with that soft open-files limit (a common default is 1,024), as a server
        started from a login shell would get.
        """
        self._count += 1
        db = None
        if self.server_dsn is not None:
            db = create_database(self.server_dsn)
        live = LiveServer(self.workdir / f"server{self._count}", db=db, args=list(args))
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(open_files, hard), hard))  # inherited by the child
        try:
            live.start()
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        try:
            yield live
        finally:
            await asyncio.to_thread(live.stop)
            if db is not None and self.server_dsn is not None:
                drop_database(self.server_dsn, db)


Case = Callable[[Bench], Awaitable[list[Row]]]


# -- a minimal HTTP/1.1 client over raw connections (keeps per-request cost far below the server's) ----
async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    close = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            close = True
    if length:
        await reader.readexactly(length)
    return status, close


async def raw_flood(port: int, requests: Iterator[bytes], connections: int, within: float) -> Counter[str]:
    """Send every request (sharing `connections` keep-alive connections); count the statuses."""
    counts: Counter[str] = Counter()
    deadline = time.monotonic() + within

    async def worker() -> None:
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        for request in requests:  # one shared iterator: each request is sent once
            if time.monotonic() > deadline:
                counts["not sent (time)"] += 1
                continue
            try:
                if conn is None:
                    conn = await asyncio.open_connection(HOST, port)
                reader, writer = conn
                writer.write(request)
                status, close = await asyncio.wait_for(_read_response(reader), 30)
                counts[str(status)] += 1
            except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
                counts[type(exc).__name__] += 1
                close = True
            if close and conn is not None:
                conn[1].close()
                conn = None
        if conn is not None:
            conn[1].close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return counts


def _statuses(counts: Counter[str]) -> str:
    return ", ".join(f"{n:,} x {status}" for status, n in sorted(counts.items()))


# -- cases -----------------------------------------------------------------------------------------
FLOOD_REQUESTS = 20_000
FLOOD_RSS_TARGET_MB = 20.0


async def flood(bench: Bench) -> list[Row]:
    """20,000 unauthenticated requests, each to a distinct path; RSS before and after."""
    rows: list[Row] = []
    variants = [("16 KB paths", 16 * 1024), ("8,000-byte paths", 8000)]
    async with bench.server("--api-rate-limit", "512") as server:  # Coder's default limit
        port = server.port
        warm = (b"GET /api/v2/buildinfo HTTP/1.1\r\nHost: x\r\n\r\n" for _ in range(200))
        await raw_flood(port, warm, 4, 30)
        for label, size in variants:
            segment = size - len("/api/v2/users//notifications/preferences")

            def requests(segment: int = segment) -> Iterator[bytes]:
                for _ in range(FLOOD_REQUESTS):
                    path = f"/api/v2/users/{secrets.token_hex(segment // 2)}/notifications/preferences"
                    yield f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()

            before = rss_mb(server.pid)
            started = time.monotonic()
            counts = await raw_flood(port, requests(), 16, 240)
            elapsed = time.monotonic() - started
            after = rss_mb(server.pid)
            grown = after - before
            rows.append(
                Row(
                    "flood",
                    f"{FLOOD_REQUESTS:,} unauthenticated GETs, distinct {label}: RSS before -> after",
                    f"{before:.0f} -> {after:.0f} MB (+{grown:.1f} MB) in {elapsed:.1f} s; {_statuses(counts)}",
                    f"+<= {FLOOD_RSS_TARGET_MB:.0f} MB",
                    grown <= FLOOD_RSS_TARGET_MB and not any(s.startswith("5") for s in counts),
                )
            )
    return rows


SLOWLORIS_CONNECTIONS = 1500
HEALTHY_SAMPLES = 300
HEALTHY_GAP = 0.015  # spreads the samples over most of the hold (the heads time out after 10 s)
SLOW_HEAD = b"GET /api/v2/users/me HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


async def _healthy_latencies(server: LiveServer, samples: int, gap: float = 0.0) -> tuple[list[float], int]:
    """Sequential authenticated GETs `gap` seconds apart: latencies (ms) and how many were not 200."""
    latencies: list[float] = []
    failed = 0
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers(server.member_token), timeout=30) as c:
        for _ in range(samples):
            started = time.perf_counter()
            try:
                response = await c.get("/api/v2/users/me")
                failed += response.status_code != 200
            except httpx.HTTPError:
                failed += 1
            latencies.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(gap)
    return latencies, failed


async def slowloris(bench: Bench) -> list[Row]:
    """1,500 half-sent request heads held open; a healthy client's p50/p99 during the hold vs without."""
    timeout = 10.0  # the --read-header-timeout default
    # Started with a 1,024 soft open-files limit: the server raises it to the hard limit itself.
    async with bench.server("--read-header-timeout", str(timeout), open_files=1024) as server:
        await _healthy_latencies(server, 20)  # warm-up
        quiet, quiet_failed = await _healthy_latencies(server, HEALTHY_SAMPLES, HEALTHY_GAP)
        rss_before = rss_mb(server.pid)

        gate = asyncio.Semaphore(100)
        opened_at = time.monotonic()

        async def hold() -> asyncio.StreamReader | None:
            async with gate:
                try:
                    reader, writer = await asyncio.open_connection(HOST, server.port)
                except OSError:
                    return None
                writer.write(SLOW_HEAD)
                held_writers.append(writer)
                return reader

        held_writers: list[asyncio.StreamWriter] = []
        readers = [r for r in await asyncio.gather(*(hold() for _ in range(SLOWLORIS_CONNECTIONS))) if r]
        open_seconds = time.monotonic() - opened_at
        try:
            during, during_failed = await _healthy_latencies(server, HEALTHY_SAMPLES, HEALTHY_GAP)
            measured_within = time.monotonic() - opened_at
            rss_during = rss_mb(server.pid)

            async def closed_after(reader: asyncio.StreamReader) -> float | None:
                try:
                    data = await asyncio.wait_for(reader.read(), timeout + 30)
                except (TimeoutError, OSError):
                    return None
                return time.monotonic() - opened_at if not data else None

            closed = [t for t in await asyncio.gather(*(closed_after(r) for r in readers)) if t is not None]
        finally:
            for writer in held_writers:
                writer.close()
    p50q, p99q = percentile(quiet, 50), percentile(quiet, 99)
    p50d, p99d = percentile(during, 50), percentile(during, 99)
    return [
        Row(
            "slowloris",
            f"healthy GET /users/me, p50 / p99 without held connections ({HEALTHY_SAMPLES} sequential, "
            f"{HEALTHY_GAP * 1000:.0f} ms apart)",
            f"{p50q:.1f} / {p99q:.1f} ms, {quiet_failed} failed",
        ),
        Row(
            "slowloris",
            f"the same while {len(readers):,} half-sent heads are held (opened in {open_seconds:.1f} s, "
            f"measured within {measured_within:.1f} s)",
            f"{p50d:.1f} / {p99d:.1f} ms, {during_failed} failed",
            "all answered",
            during_failed == 0 and len(readers) == SLOWLORIS_CONNECTIONS,
        ),
        Row(
            "slowloris",
            f"held connections closed by the server (--read-header-timeout {timeout:.0f} s)",
            f"{len(closed):,} of {len(readers):,}, the last {max(closed, default=float('nan')):.1f} s after the "
            f"first was opened; RSS {rss_before:.0f} -> {rss_during:.0f} MB while held",
            "all",
            len(closed) == len(readers),
        ),
    ]


WATCH_ATTEMPTS = 500
WATCH_CAP = 64  # the --max-watchers-per-user default


async def watchers(bench: Bench) -> list[Row]:
    """One member asks for 500 watch sockets: how many are opened, how many refused (429)."""
    async with bench.server() as server:
        url = server.ws_url + "/api/v2/notifications/inbox/watch"
        headers = server.headers(server.member_token)
        before = rss_mb(server.pid)
        gate = asyncio.Semaphore(50)
        opened: list[ClientConnection] = []
        refused: Counter[str] = Counter()

        async def one() -> None:
            async with gate:
                try:
                    ws = await websockets.connect(url, additional_headers=headers, ping_interval=None, open_timeout=30)
                except InvalidStatus as exc:
                    refused[str(exc.response.status_code)] += 1
                except (OSError, TimeoutError, WebSocketException) as exc:
                    refused[type(exc).__name__] += 1
                else:
                    opened.append(ws)

        try:
            await asyncio.gather(*(one() for _ in range(WATCH_ATTEMPTS)))
            after = rss_mb(server.pid)
        finally:
            await asyncio.gather(*(ws.close() for ws in opened), return_exceptions=True)
    return [
        Row(
            "watchers",
            f"one member asks for {WATCH_ATTEMPTS} watch sockets (--max-watchers-per-user {WATCH_CAP})",
            f"{len(opened)} opened, {_statuses(refused)}; RSS {before:.0f} -> {after:.0f} MB",
            f"{WATCH_CAP} opened, the rest 429",
            len(opened) == WATCH_CAP and refused == Counter({"429": WATCH_ATTEMPTS - WATCH_CAP}),
        )
    ]


# -- bad input (section 2) ---------------------------------------------------------------------------
LEAK_WORDS = (b"sqlite", b"psycopg", b"expression tree", b"traceback", b"syntax error", b"nul (0x00)")


async def _send_one(port: int, raw: bytes) -> tuple[str, bytes]:
    """One request on its own connection: the status (or how the connection ended) and the body."""
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
    except OSError as exc:
        return type(exc).__name__, b""
    try:
        writer.write(raw)
        with contextlib.suppress(OSError):
            await writer.drain()  # the server may refuse a head before it is all sent
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
        status = head.split(b" ", 2)[1].decode()
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await asyncio.wait_for(reader.readexactly(length), 60) if length else b""
        return status, body
    except asyncio.IncompleteReadError as exc:
        return ("closed" if not exc.partial else "IncompleteReadError"), b""
    except (OSError, TimeoutError) as exc:
        return type(exc).__name__, b""
    finally:
        writer.close()


async def _inbox_id(server: LiveServer, token: str) -> str:
    """The id of one of the user's inbox notifications (sends one and waits for its delivery)."""
    async with httpx.AsyncClient(base_url=server.url + "/api/v2", headers=server.headers(token), timeout=30) as c:
        await c.post("/notifications/custom", json={"content": {"title": "seed", "message": "m"}})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            page = (await c.get("/notifications/inbox")).json()["notifications"]
            if page:
                return str(page[0]["id"])
            await asyncio.sleep(0.05)
    raise RuntimeError("the seed notification was not delivered")


def _tracebacks(server: LiveServer) -> int:
    return server.log_path.read_text(errors="replace").count("Traceback")


async def bad_input(bench: Bench) -> list[Row]:
    """Every bad input of the issue, each on its own connection: tried, answered 5xx (must be 0)."""
    rows: list[Row] = []
    async with bench.server() as server:
        inbox_id = await _inbox_id(server, server.owner_token)
        tracebacks_before = _tracebacks(server)
        total = fives = leaks = 0
        for group in [*abuse_inputs.groups(server.owner_token, inbox_id), abuse_inputs.head_limits(server.owner_token)]:
            counts: Counter[str] = Counter()
            leaked = 0
            for raw in group.requests:
                status, body = await _send_one(server.port, raw)
                counts[status] += 1
                leaked += any(word in body.lower() for word in LEAK_WORDS)
            errors = sum(n for status, n in counts.items() if status.startswith("5"))
            total, fives, leaks = total + len(group.requests), fives + errors, leaks + leaked
            rows.append(
                Row(
                    "bad input",
                    group.name,
                    f"{len(group.requests):,} tried, {errors} answered 5xx ({_statuses(counts)})"
                    + (f"; {leaked} bodies name SQL or the driver" if leaked else ""),
                    "0 x 5xx",
                    errors == 0 and leaked == 0,
                )
            )
        usernames: Counter[str] = Counter()
        for name in abuse_inputs.BAD_USERNAMES:
            done = await asyncio.to_thread(server.cli, "users", "create", "--username", name)
            usernames[
                "accepted" if done.returncode == 0 else "traceback" if "Traceback" in done.stderr else "refused"
            ] += 1
        rows.append(
            Row(
                "bad input",
                f"`inbox-server users create` with {len(abuse_inputs.BAD_USERNAMES)} usernames Coder refuses "
                "(escape codes, `me`, UUID-shaped, 300 characters, double hyphen, ...)",
                _statuses(usernames),
                "all refused, no traceback",
                usernames == Counter({"refused": len(abuse_inputs.BAD_USERNAMES)}),
            )
        )
        logged = _tracebacks(server) - tracebacks_before
    rows.append(
        Row(
            "bad input",
            "all of the above: requests tried, answered 5xx, tracebacks in the server log",
            f"{total:,} tried, {fives} x 5xx, {logged} tracebacks",
            "0 x 5xx",
            fives == 0 and leaks == 0,
        )
    )
    return rows


# -- the 4 MiB preferences map against another user's POSTs ------------------------------------------
CONTENTION_SAMPLES = 200
CONTENTION_GAP = 0.01
MAP_SENDERS = 2
MAP_MAX_SENDS = 400  # per sender; the loop also stops when the sampling is done or after 120 s


async def _post_latencies(server: LiveServer, token: str, samples: int, tag: str) -> tuple[list[float], int]:
    """Sequential POST /notifications/custom (distinct titles: identical ones are deduplicated)."""
    latencies: list[float] = []
    failed = 0
    async with httpx.AsyncClient(base_url=server.url + "/api/v2", headers=server.headers(token), timeout=60) as c:
        for i in range(samples):
            body = {"content": {"title": f"{tag} {i}", "message": "latency sample"}}
            started = time.perf_counter()
            try:
                failed += (await c.post("/notifications/custom", json=body)).status_code != 204
            except httpx.HTTPError:
                failed += 1
            latencies.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(CONTENTION_GAP)
    return latencies, failed


@dataclass
class MapLoad:
    """Another user's POST latencies while maps were sent, and how the maps were answered."""

    during: list[float]
    failed: int
    sent: Counter[str]
    map_ms: list[float]
    largest_body: int
    rate: float


async def _while_maps(server: LiveServer, raw: bytes, rate: float | None) -> MapLoad:
    """Sample another user's POSTs while MAP_SENDERS clients send `raw` in a loop (at `rate`/s in all)."""
    stop = asyncio.Event()
    first_answered = asyncio.Event()
    sent: Counter[str] = Counter()
    map_ms: list[float] = []
    sizes: list[int] = [0]
    interval = 0.0 if rate is None else MAP_SENDERS / rate

    async def sender(n: int) -> None:
        deadline = time.monotonic() + 120
        next_at = time.monotonic() + n * interval / MAP_SENDERS  # paced senders take turns
        for _ in range(MAP_MAX_SENDS):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, next_at - time.monotonic()))
            if stop.is_set() or time.monotonic() > deadline:
                return
            next_at += interval
            started = time.perf_counter()
            status, body = await _send_one(server.port, raw)
            map_ms.append((time.perf_counter() - started) * 1000)
            sent[status] += 1
            sizes.append(len(body))
            first_answered.set()

    senders = [asyncio.create_task(sender(n)) for n in range(MAP_SENDERS)]
    try:
        # The maps are on their way (the first one answered) before sampling starts.
        await asyncio.wait_for(first_answered.wait(), 120)
        started = time.monotonic()
        during, failed = await _post_latencies(server, server.owner_token, CONTENTION_SAMPLES, f"during {rate}")
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        await asyncio.gather(*senders)
    return MapLoad(during, failed, sent, map_ms, max(sizes), sum(sent.values()) / max(elapsed, 1e-9))


ISSUE_MAP_RATE = 1.65  # maps/s, both clients together, when the issue measured p50 1,156 ms


async def preferences_map(bench: Bench) -> list[Row]:
    """Two clients PUT a 90,000-id preferences map in a loop; another user's POST p50 during vs without."""
    async with bench.server() as server:
        raw = abuse_inputs.request(
            "PUT", "/users/me/notifications/preferences", server.member_token, abuse_inputs.preferences_map()
        )
        await _post_latencies(server, server.owner_token, 20, "warm-up")
        quiet, quiet_failed = await _post_latencies(server, server.owner_token, CONTENTION_SAMPLES, "quiet")
        paced = await _while_maps(server, raw, ISSUE_MAP_RATE)
        looped = await _while_maps(server, raw, None)
    mib = len(raw) / 2**20
    rows = [
        Row(
            "4 MiB preferences map",
            f"another user's POST /notifications/custom, p50 / p99 without ({CONTENTION_SAMPLES} sequential)",
            f"{percentile(quiet, 50):.1f} / {percentile(quiet, 99):.1f} ms, {quiet_failed} failed",
            "(issue: p50 2 ms)",
        )
    ]
    for load, how, target, limit in (
        (paced, f"at the issue's {ISSUE_MAP_RATE} maps/s", "p50 <= 20 ms (issue: 1,156 ms)", 20.0),
        (looped, "in a loop, each sent when the last is answered", "maps refused (400), 0 x 5xx", None),
    ):
        p50 = percentile(load.during, 50)
        rows.append(
            Row(
                "4 MiB preferences map",
                f"the same while {MAP_SENDERS} clients PUT a {mib:.1f} MiB map of "
                f"{abuse_inputs.PREFERENCE_IDS:,} random template ids, {how}",
                f"{p50:.1f} / {percentile(load.during, 99):.1f} ms, {load.failed} failed; maps: {load.rate:.1f}/s, "
                f"{_statuses(load.sent)}, each answered in p50 {percentile(load.map_ms, 50):.0f} ms with "
                f"<= {load.largest_body:,} bytes",
                target,
                (limit is None or p50 <= limit) and load.failed == 0 and set(load.sent) == {"400"},
            )
        )
    return rows


# -- SIGKILL mid-burst --------------------------------------------------------------------------------
BURST = 3_000
BURST_CONNECTIONS = 32
KILL_AFTER = 1_000  # acknowledged POSTs before the kill
RESTART_WAIT = 60.0  # for delivery of what was acknowledged (a crashed lease is taken over within 10 s)


async def _all_titles(server: LiveServer, token: str) -> list[str]:
    titles: list[str] = []
    cursor = None
    async with httpx.AsyncClient(base_url=server.url + "/api/v2", headers=server.headers(token), timeout=30) as c:
        for _ in range(BURST // 25 + 10):
            params: dict[str, str] = {"starting_before": cursor} if cursor else {}
            page = (await c.get("/notifications/inbox", params=params)).json()["notifications"]
            titles += [n["title"] for n in page]
            if len(page) < 25:
                break
            cursor = page[-1]["id"]
    return titles


async def _unread(server: LiveServer, token: str) -> int:
    async with httpx.AsyncClient(base_url=server.url + "/api/v2", headers=server.headers(token), timeout=30) as c:
        return int((await c.get("/notifications/inbox")).json()["unread_count"])


async def sigkill(bench: Bench) -> list[Row]:
    """A burst of custom notifications, kill -9 mid-burst, restart: acknowledged vs present afterwards."""
    async with bench.server() as server:
        token = server.member_token
        acknowledged: set[str] = set()
        outcomes: Counter[str] = Counter()
        killed = asyncio.Event()
        enough = asyncio.Event()
        titles = iter(f"burst {i}" for i in range(BURST))

        async def worker() -> None:
            conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
            for title in titles:
                if killed.is_set():
                    outcomes["not sent (server killed)"] += 1
                    continue
                body = json.dumps({"content": {"title": title, "message": "sigkill burst"}}).encode()
                try:
                    if conn is None:
                        conn = await asyncio.open_connection(HOST, server.port)
                    conn[1].write(abuse_inputs.request("POST", "/notifications/custom", token, body))
                    status, close = await asyncio.wait_for(_read_response(conn[0]), 30)
                except (OSError, asyncio.IncompleteReadError, TimeoutError):
                    outcomes["no answer (killed in flight)"] += 1
                    if conn is not None:
                        conn[1].close()
                    conn = None
                    continue
                outcomes[str(status)] += 1
                if status == 204:
                    acknowledged.add(title)
                    if len(acknowledged) >= KILL_AFTER:
                        enough.set()
                if close:
                    conn[1].close()
                    conn = None
            if conn is not None:
                conn[1].close()

        async def killer() -> None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(enough.wait(), 120)
            await asyncio.to_thread(server.kill)
            killed.set()

        started = time.monotonic()
        await asyncio.gather(killer(), *(worker() for _ in range(BURST_CONNECTIONS)))
        burst_seconds = time.monotonic() - started
        await asyncio.to_thread(server.start)
        restarted = time.monotonic()
        for _ in range(int(RESTART_WAIT / 0.1)):  # until all acknowledged are delivered, or RESTART_WAIT
            if await _unread(server, token) >= len(acknowledged):
                break
            await asyncio.sleep(0.1)
        present = await _all_titles(server, token)
        settled = time.monotonic() - restarted
    seen = set(present)
    lost = len(acknowledged - seen)
    extra = len(seen - acknowledged)
    duplicates = len(present) - len(seen)
    return [
        Row(
            "SIGKILL mid-burst",
            f"{BURST:,} POST /notifications/custom on {BURST_CONNECTIONS} connections, kill -9 after "
            f"{KILL_AFTER:,} acknowledged, restart: acknowledged (204) vs in the inbox after restart",
            f"{len(acknowledged):,} acknowledged, {len(acknowledged & seen):,} of them present "
            f"({lost} lost) within {settled:.1f} s of the restart; {extra} unacknowledged but present, "
            f"{duplicates} duplicates; burst {burst_seconds:.1f} s: {_statuses(outcomes)}",
            "0 acknowledged-but-lost",
            lost == 0 and duplicates == 0 and len(acknowledged) >= KILL_AFTER,
        )
    ]


CASES: dict[str, Case] = {
    "flood": flood,
    "slowloris": slowloris,
    "watchers": watchers,
    "bad_input": bad_input,
    "preferences_map": preferences_map,
    "sigkill": sigkill,
}


# -- driver ----------------------------------------------------------------------------------------
def _raise_open_files_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _backends(wanted: list[str]) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    if "sqlite" in wanted:
        out.append(("sqlite", None))
    if "postgres" in wanted:
        dsn, reason = server_dsn_or_reason()
        if dsn is None:
            print(f"postgres skipped: {reason}")
        else:
            out.append(("postgres", dsn))
    return out


README_NOTE = (
    "Every case runs against a real `inbox-server serve` on 127.0.0.1, on SQLite and on PostgreSQL (a private "
    "cluster), with the client on the same 2 cores.\nCommand: `.venv/bin/python -m benchmarks.abuse`"
)


def render(rows: list[tuple[str, Row]]) -> str:
    """The markdown table."""
    lines = ["| backend | case | measure | result | target | ok |", "|---|---|---|---|---|---|"]
    for backend, row in rows:
        verdict = "" if row.ok is None else ("yes" if row.ok else "**NO**")
        lines.append(f"| {backend} | {row.case} | {row.measure} | {row.value} | {row.target} | {verdict} |")
    return "\n".join(lines)


async def run(backends: list[tuple[str, str | None]], cases: list[str], workdir: Path) -> list[tuple[str, Row]]:
    """Every case on every backend, one at a time."""
    rows: list[tuple[str, Row]] = []
    for backend, dsn in backends:
        bench = Bench(backend, dsn, workdir / backend)
        for name in cases:
            print(f"-- {backend}: {name}", flush=True)
            for row in await CASES[name](bench):
                rows.append((backend, row))
                print(f"   {row.measure}: {row.value}", flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgres"], default=[])
    parser.add_argument("--case", action="append", choices=list(CASES), default=[])
    parser.add_argument("--readme", action="store_true", help="write README even for a partial run")
    parser.add_argument("--no-readme", action="store_true", help="only print the table")
    args = parser.parse_args()
    _raise_open_files_limit()  # the slowloris case holds 1,500 connections from this process
    with tempfile.TemporaryDirectory() as tmp:
        rows = asyncio.run(run(_backends(args.backend or ["sqlite", "postgres"]), args.case or list(CASES), Path(tmp)))
    table = render(rows)
    print()
    print(table)
    full = not args.case and not args.backend
    if (full or args.readme) and not args.no_readme:
        update_readme("abuse", f"{table}\n\n{README_NOTE}")
    return 1 if any(row.ok is False for _, row in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
