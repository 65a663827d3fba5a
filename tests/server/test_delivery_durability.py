"""Concurrency and crash safety of the delivery pipeline (issue: 50 senders, SIGKILL mid-burst)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.live_server import LiveServer
from tests.server.helpers import client, wait_for


async def _all_titles(server: LiveServer, token: str) -> list[str]:
    titles: list[str] = []
    cursor = None
    async with client(server, token) as c:
        while True:
            params = {"starting_before": cursor} if cursor else {}
            page = (await c.get("/notifications/inbox", params=params)).json()["notifications"]
            titles += [n["title"] for n in page]
            if len(page) < 25:
                return titles
            cursor = page[-1]["id"]


async def test_fifty_concurrent_senders_lose_nothing(live_server: LiveServer) -> None:
    senders, each = 50, 20

    async def sender(n: int) -> None:
        async with client(live_server, live_server.member_token) as c:
            for i in range(each):
                body = {"content": {"title": f"s{n}-{i}", "message": "burst"}}
                response = await c.post("/notifications/custom", json=body)
                assert response.status_code == 204, response.text

    await asyncio.gather(*(sender(n) for n in range(senders)))

    async def delivered() -> int | None:
        async with client(live_server, live_server.member_token) as c:
            count = int((await c.get("/notifications/inbox")).json()["unread_count"])
        return count if count >= senders * each else None

    assert await wait_for(delivered, within=60) == senders * each
    titles = await _all_titles(live_server, live_server.member_token)
    assert sorted(titles) == sorted(f"s{n}-{i}" for n in range(senders) for i in range(each))


async def test_sigkill_mid_burst_loses_no_acknowledged_notification(tmp_path: Path) -> None:
    server = LiveServer(tmp_path).start()
    acknowledged: list[str] = []
    enough = asyncio.Event()
    try:
        async with client(server, server.member_token) as c:

            async def send(i: int) -> None:
                try:
                    response = await c.post(
                        "/notifications/custom", json={"content": {"title": f"n{i}", "message": "m"}}
                    )
                except httpx.HTTPError:
                    return
                if response.status_code == 204:
                    acknowledged.append(f"n{i}")
                    if len(acknowledged) >= 150:
                        enough.set()

            tasks = [asyncio.create_task(send(i)) for i in range(600)]
            await enough.wait()
            server.kill()
            await asyncio.gather(*tasks)
        assert len(acknowledged) >= 150
        server.start()

        async def all_there() -> list[str] | None:
            titles = set(await _all_titles(server, server.member_token))
            return sorted(titles) if titles >= set(acknowledged) else None

        await wait_for(all_there, within=60)
        titles = await _all_titles(server, server.member_token)
        assert len(titles) == len(set(titles)), "a notification was delivered twice"
    finally:
        server.stop()
