"""Clients for the inbox watch socket, used by the watch tests and the benchmarks."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.client import ClientProtocol
from websockets.frames import Close, Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from tests.live_server import LiveServer

WATCH_PATH = "/api/v2/notifications/inbox/watch"


def watch_url(server: LiveServer, query: str = "") -> str:
    """The watch endpoint's websocket URL, with an optional query string."""
    return server.ws_url + WATCH_PATH + (f"?{query}" if query else "")


async def open_watch(server: LiveServer, token: str | None = None, query: str = "", **kwargs: Any) -> ClientConnection:
    """A websockets client on the watch endpoint. The client answers pings; it never pings itself."""
    return await websockets.connect(
        watch_url(server, query),
        additional_headers=server.headers(token),
        ping_interval=None,
        open_timeout=15,
        close_timeout=5,
        max_queue=None,
        **kwargs,
    )


async def next_frame(ws: ClientConnection, within: float = 10.0) -> tuple[str, dict[str, Any]]:
    """The next text frame, raw and parsed."""
    raw = await asyncio.wait_for(ws.recv(), within)
    assert isinstance(raw, str), f"expected a text frame, got {type(raw).__name__}"
    parsed: dict[str, Any] = json.loads(raw)
    return raw, parsed


async def send_custom(server: LiveServer, title: str, message: str, token: str | None = None) -> None:
    """POST /notifications/custom as the token's user (the recipient is always the caller)."""
    async with httpx.AsyncClient(base_url=server.url + "/api/v2", headers=server.headers(token), timeout=30) as c:
        response = await c.post("/notifications/custom", json={"content": {"title": title, "message": message}})
        assert response.status_code == 204, response.text


class PingCountingConnection(ClientConnection):
    """A websockets client connection that counts the server's pings (the protocol answers each one)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pings = 0
        self._pinged = asyncio.Event()

    def process_event(self, event: Any) -> None:
        """Count a ping frame, then handle every event as the library does."""
        if isinstance(event, Frame) and event.opcode is Opcode.PING:
            self.pings += 1
            self._pinged.set()
        super().process_event(event)

    async def wait_for_pings(self, count: int, within: float = 10.0) -> None:
        """Until `count` pings have arrived (each answered with a pong by the library)."""
        async with asyncio.timeout(within):
            while self.pings < count:
                self._pinged.clear()
                await self._pinged.wait()


class RawWatch:
    """A bare-bones websocket client over asyncio streams that never answers pings (a dead peer)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, protocol: ClientProtocol):
        self.reader = reader
        self.writer = writer
        self.protocol = protocol
        self.texts: list[str] = []

    @classmethod
    async def connect(cls, url: str, headers: Mapping[str, str], *, rcvbuf: int | None = None) -> RawWatch:
        """Handshake, then stop transmitting (pongs stay unsent). `rcvbuf` shrinks the kernel buffer."""
        protocol = ClientProtocol(parse_uri(url))
        request = protocol.connect()
        for name, value in headers.items():
            request.headers[name] = value
        protocol.send_request(request)
        parts = urlsplit(url)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            # Before connecting, so the advertised window stays small: a stalled reader fills up fast.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (parts.hostname, parts.port))
        reader, writer = await asyncio.open_connection(sock=sock)
        writer.write(b"".join(protocol.data_to_send()))
        await writer.drain()
        self = cls(reader, writer, protocol)
        while True:
            data = await reader.read(65536)
            if not data:
                raise ConnectionError("closed during the handshake")
            protocol.receive_data(data)
            for event in protocol.events_received():
                if isinstance(event, Response):
                    if event.status_code != 101:
                        raise ConnectionError(f"handshake refused: {event.status_code}")
                    protocol.data_to_send()  # drop: nothing more is ever sent
                    return self

    async def wait_closed(self, within: float) -> Close | None:
        """Read (without answering anything) until the server's close frame or EOF."""

        async def read() -> Close | None:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    self.protocol.receive_eof()
                    return self.protocol.close_rcvd
                self.protocol.receive_data(data)
                for event in self.protocol.events_received():
                    if event.opcode is Opcode.TEXT:
                        self.texts.append(bytes(event.data).decode())
                    elif event.opcode is Opcode.CLOSE:
                        return self.protocol.close_rcvd
                self.protocol.data_to_send()  # pongs and close replies are dropped on purpose

        return await asyncio.wait_for(read(), within)

    def close(self) -> None:
        """Drop the TCP connection."""
        self.writer.close()


async def user_uuid(server: LiveServer, token: str) -> uuid.UUID:
    """The id of the token's user."""
    async with httpx.AsyncClient(base_url=server.url + "/api/v2", headers=server.headers(token), timeout=30) as c:
        return uuid.UUID((await c.get("/users/me")).json()["id"])
