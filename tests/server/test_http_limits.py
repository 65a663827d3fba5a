"""Limits on request heads and connections (issue 12, section 1): a read-header timeout against
slowloris, 431 for a head over 64 KiB, 414 for a URL over 8 KiB, and the open-files limit raised."""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live_server import LiveServer
from tests.server.helpers import API

HEADER_TIMEOUT = 1.5
HELD = 300  # half-sent connections held open at once (the benchmark holds 1,500)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server with a short read-header timeout."""
    args = ["--read-header-timeout", str(HEADER_TIMEOUT), "--log-level", "info"]
    live = LiveServer(tmp_path_factory.mktemp("limits"), args=args).start()
    try:
        yield live
    finally:
        live.stop()


async def _exchange(server: LiveServer, data: bytes, within: float = 15.0) -> bytes:
    """Send raw bytes and read until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(data)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        return await asyncio.wait_for(reader.read(), within)
    finally:
        writer.close()


def _status_and_body(raw: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


async def test_url_over_8_kib_is_414(server: LiveServer) -> None:
    path = f"{API}/users/{'a' * 9000}"
    raw = await _exchange(server, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    status, body = _status_and_body(raw)
    assert status == 414
    assert body == {"message": "Request URL too long.", "detail": "The request URL may be at most 8192 bytes."}
    # Just under the limit is an ordinary request.
    ok = await _exchange(
        server, f"GET {API}/buildinfo?p={'a' * 8000} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    )
    assert _status_and_body(ok)[0] == 200


async def test_head_over_64_kib_is_431_and_nothing_more_is_read(server: LiveServer) -> None:
    headers = "".join(f"X-Filler-{i}: {'b' * 1000}\r\n" for i in range(70))
    raw = await _exchange(server, f"GET {API}/buildinfo HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
    status, body = _status_and_body(raw)
    assert status == 431
    assert body["message"] == "Request header fields too large."
    # One endless header line: refused once 64 KiB arrived, while the client is still sending.
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(f"GET {API}/buildinfo HTTP/1.1\r\nHost: x\r\nX-Big: ".encode())
        answer = b""
        for _ in range(64):  # at most 4 MiB sent; the answer comes after 64 KiB
            writer.write(b"c" * 65536)
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            with contextlib.suppress(TimeoutError):
                answer += await asyncio.wait_for(reader.read(65536), 0.05)
            if answer:
                break
        assert answer.startswith(b"HTTP/1.1 431 ")
    finally:
        writer.close()
    # A large but allowed head is served.
    ok = await _exchange(
        server, f"GET {API}/buildinfo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: {'d' * 60000}\r\n\r\n".encode()
    )
    assert _status_and_body(ok)[0] == 200


async def test_slow_heads_are_closed_and_do_not_block_others(server: LiveServer) -> None:
    held: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        for i in range(HELD):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            # Part of a head, then nothing (or nothing at all).
            writer.write(b"GET /api/v2/buildinfo HTTP/1.1\r\nHost: x\r\nX-Slow: " if i % 2 else b"")
            held.append((reader, writer))
        # While they are held, a healthy client gets its answers.
        async with httpx.AsyncClient(base_url=server.url + API, timeout=10) as healthy:
            for _ in range(20):
                assert (await healthy.get("/buildinfo")).status_code == 200
        # And each held connection is closed by the server once the timeout passed, without an answer.
        closed = await asyncio.gather(*(asyncio.wait_for(reader.read(), HEADER_TIMEOUT + 15) for reader, _ in held))
        assert closed == [b""] * HELD
    finally:
        for _, writer in held:
            writer.close()


async def test_a_kept_alive_connection_still_works(server: LiveServer) -> None:
    # Two requests on one connection, the second well within the timeout after the first.
    async with httpx.AsyncClient(base_url=server.url + API, timeout=10) as c:
        assert (await c.get("/buildinfo")).status_code == 200
        await asyncio.sleep(HEADER_TIMEOUT / 3)
        assert (await c.get("/buildinfo")).status_code == 200


def test_open_files_soft_limit_is_raised_to_the_hard_limit(tmp_path: Path) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lowered = min(soft, 256)
    assert lowered < hard, "the test needs a hard limit above 256"
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowered, hard))
    try:
        live = LiveServer(tmp_path, args=["--log-level", "info"]).start()  # inherits the lowered limit
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        limits = Path(f"/proc/{live.pid}/limits").read_text()
        line = next(row for row in limits.splitlines() if row.startswith("Max open files"))
        shown = "unlimited" if hard == resource.RLIM_INFINITY else str(hard)
        assert line.split()[3] == shown
        assert f"open files limit: {shown}" in live.log_path.read_text()
    finally:
        live.stop()
