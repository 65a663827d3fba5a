"""`--max-watchers-per-user`: the next watch upgrade past the cap is a 429 before upgrading (issue 12)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidStatus

from tests.live_server import LiveServer
from tests.server.helpers import wait_for
from tests.server.watch_helpers import open_watch

CAP = 3


async def test_watch_sockets_are_capped_per_user(tmp_path: Path) -> None:
    server = LiveServer(tmp_path, args=["--max-watchers-per-user", str(CAP)]).start()
    sockets: list[ClientConnection] = []
    try:
        for _ in range(CAP):
            sockets.append(await open_watch(server, server.member_token))
        with pytest.raises(InvalidStatus) as info:
            await open_watch(server, server.member_token)
        response = info.value.response
        assert response.status_code == 429
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        body = json.loads(bytes(response.body))
        assert body == {
            "message": "Too many inbox watch connections.",
            "detail": f"A user may hold at most {CAP} open watch connections; close one and retry.",
        }
        # The cap is per user: another user still gets a socket.
        sockets.append(await open_watch(server, server.owner_token))
        # Closing one frees a place.
        await sockets.pop(0).close()

        async def reopened() -> ClientConnection | None:
            try:
                return await open_watch(server, server.member_token)
            except InvalidStatus:
                return None

        sockets.append(await wait_for(reopened, within=10))
    finally:
        for ws in sockets:
            with contextlib.suppress(Exception):
                await ws.close()
        server.stop()
