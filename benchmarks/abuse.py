"""Hostile clients and faults against a real server on 127.0.0.1, for each backend available (issue 12).

Run: .venv/bin/python -m benchmarks.abuse [--backend sqlite] [--case flood] [--readme]

Each case is an entry in CASES: a name and a coroutine that gets a `Bench` (the backend, and a way to
start a server on it) and returns table rows. Add a case by writing one such coroutine and listing it.
Every loop is bounded in count and in time, and only 127.0.0.1 is ever contacted.

Cases so far:
- flood: unauthenticated requests with distinct paths (16 KB, refused by the URL limit, and 8,000 bytes,
  which reach the rate limiter and the 401 path): the server's RSS before and after.
- slowloris: connections that send part of a request head and stop; a healthy client's latency while they
  are held, against the same client without them; and when the server closed them.
- watchers: one member asks for 500 watch sockets; at most --max-watchers-per-user are opened.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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


CASES: dict[str, Case] = {
    "flood": flood,
    "slowloris": slowloris,
    "watchers": watchers,
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
    parser.add_argument("--readme", action="store_true", help="write the table into README (Reliability)")
    args = parser.parse_args()
    _raise_open_files_limit()  # the slowloris case holds 1,500 connections from this process
    with tempfile.TemporaryDirectory() as tmp:
        rows = asyncio.run(run(_backends(args.backend or ["sqlite", "postgres"]), args.case or list(CASES), Path(tmp)))
    table = render(rows)
    print()
    print(table)
    if args.readme:
        update_readme("abuse", table)
    return 1 if any(row.ok is False for _, row in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
