"""The floor for the watch benchmarks: a bare `websockets` server that broadcasts a fixed payload.

Run by the benchmarks as `python -m benchmarks.bare_ws PORT PAYLOAD_FILE`. Websocket clients connect to
any path; `?recipient=1` marks a client as a recipient. A text message from any client triggers a send:
- `send`: the payload to every recipient (the latency floor: one request in, one frame out);
- `burst`: the payload to every other connected client, each sent separately (the fan-out floor).
The trigger rides on an open websocket, so no connection setup or HTTP parsing is counted. No
authentication, no database, no JSON encoding: only the websocket library and the event loop.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from websockets.asyncio.server import ServerConnection, broadcast, serve


async def main(port: int, payload: str) -> None:
    """Serve until terminated."""
    everyone: set[ServerConnection] = set()
    recipients: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        everyone.add(ws)
        if ws.request is not None and "recipient=1" in ws.request.path:
            recipients.add(ws)
        try:
            async for message in ws:
                if message == "send":
                    broadcast(recipients, payload)
                elif message == "burst":
                    for other in list(everyone):
                        if other is not ws:
                            broadcast((other,), payload)
        finally:
            everyone.discard(ws)
            recipients.discard(ws)

    async with serve(handler, "127.0.0.1", port, ping_interval=None, backlog=4096):
        await asyncio.Future()


if __name__ == "__main__":
    coro = main(int(sys.argv[1]), Path(sys.argv[2]).read_text())
    try:
        import uvloop  # the same event loop the inbox server runs on
    except ImportError:  # pragma: no cover
        asyncio.run(coro)
    else:
        uvloop.run(coro)
