"""Rate limits for unauthenticated clients: keyed by route pattern, a bounded table, forwarding headers
trusted only when configured (issue 12, section 1)."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx

from server.ratelimit import RateLimiter
from server.realip import RealIP, parse_origins
from tests.live_server import LiveServer
from tests.server.helpers import API

LIMIT = 5


def test_table_is_bounded_least_recently_used_evicted_first() -> None:
    limiter = RateLimiter(LIMIT, max_keys=3)
    for key in ("a", "b", "c"):
        limiter.hit(key, now=100.0)
    limiter.hit("a", now=101.0)  # a is now the most recently used
    limiter.hit("d", now=102.0)
    assert limiter.keys() == ["c", "a", "d"]
    for i in range(1000):
        limiter.hit(f"k{i}", now=103.0)
    assert len(limiter) == 3


def test_counts_carry_over_one_window_only() -> None:
    limiter = RateLimiter(2, window=60.0)
    assert limiter.hit("k", now=0.0).allowed
    assert limiter.hit("k", now=1.0).allowed
    assert not limiter.hit("k", now=2.0).allowed
    # At the start of the next window the previous one still weighs fully; two windows later nothing.
    assert not limiter.hit("k", now=60.0).allowed
    assert limiter.hit("k", now=180.0).allowed


def _distinct_path() -> str:
    return f"/users/{secrets.token_hex(64)}/notifications/preferences"


async def test_unauthenticated_distinct_paths_share_one_route_window(tmp_path: Path) -> None:
    server = LiveServer(tmp_path, args=["--api-rate-limit", str(LIMIT)]).start()
    try:
        async with httpx.AsyncClient(base_url=server.url + API) as c:
            codes = [(await c.get(_distinct_path())).status_code for _ in range(LIMIT)]
            assert codes == [401] * LIMIT
            limited = await c.get(_distinct_path())
            assert limited.status_code == 429
            assert limited.json() == {
                "message": f"You've been rate limited for sending more than {LIMIT} requests in 1m0s."
            }
            # The window is per route pattern and method: another route still answers.
            assert (await c.get("/notifications/inbox")).status_code == 401
    finally:
        server.stop()


async def _rotating_forwarded_for(server: LiveServer, count: int) -> list[int]:
    async with httpx.AsyncClient(base_url=server.url + API) as c:
        return [
            (await c.get("/notifications/inbox", headers={"X-Forwarded-For": f"203.0.113.{i}"})).status_code
            for i in range(count)
        ]


async def test_forwarded_for_is_not_trusted_by_default(tmp_path: Path) -> None:
    server = LiveServer(tmp_path, args=["--api-rate-limit", str(LIMIT)]).start()
    try:
        assert await _rotating_forwarded_for(server, LIMIT + 1) == [401] * LIMIT + [429]
    finally:
        server.stop()


async def test_forwarded_for_is_trusted_only_from_a_trusted_origin(tmp_path: Path) -> None:
    trusted = ["--proxy-trusted-headers", "X-Forwarded-For", "--proxy-trusted-origins", "127.0.0.0/8"]
    server = LiveServer(tmp_path / "trusted", args=["--api-rate-limit", str(LIMIT), *trusted]).start()
    try:
        # Each forwarded client has its own window.
        assert await _rotating_forwarded_for(server, LIMIT + 3) == [401] * (LIMIT + 3)
    finally:
        server.stop()
    elsewhere = ["--proxy-trusted-headers", "X-Forwarded-For", "--proxy-trusted-origins", "10.0.0.0/8"]
    server = LiveServer(tmp_path / "untrusted", args=["--api-rate-limit", str(LIMIT), *elsewhere]).start()
    try:
        # We connect from 127.0.0.1, which is not a trusted proxy here: the header is ignored.
        assert await _rotating_forwarded_for(server, LIMIT + 1) == [401] * LIMIT + [429]
    finally:
        server.stop()


def test_bad_trusted_origin_is_refused(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    done = server.cli("serve", "--port", "0", "--proxy-trusted-origins", "not-a-cidr")
    assert done.returncode == 2
    assert "parse proxy origin 'not-a-cidr'" in done.stderr


def test_rightmost_untrusted_forwarded_address_is_the_client() -> None:
    real_ip = RealIP(["X-Forwarded-For", "X-Real-IP"], parse_origins(["10.0.0.0/8", "127.0.0.1"]))
    xff = b"x-forwarded-for"
    # A client-prepended address is ignored: the proxies (10.x) appended the real peer after it.
    headers = [(xff, b"1.1.1.1, 198.51.100.7"), (xff, b"10.0.0.2")]
    assert real_ip.client_address("10.0.0.1", headers) == "198.51.100.7"
    # All hops trusted: the leftmost. Ports and brackets are stripped.
    assert real_ip.client_address("127.0.0.1", [(xff, b"10.0.0.9:4000, 10.0.0.2")]) == "10.0.0.9"
    assert real_ip.client_address("127.0.0.1", [(b"x-real-ip", b"[2001:db8::1]:80")]) == "2001:db8::1"
    # An untrusted peer, or nothing parseable: the peer itself.
    assert real_ip.client_address("192.0.2.1", headers) == "192.0.2.1"
    assert real_ip.client_address("127.0.0.1", [(xff, b"garbage")]) == "127.0.0.1"
    assert RealIP([], []).client_address("127.0.0.1", headers) == "127.0.0.1"
