"""A raw HTTP answerer on 127.0.0.1 for client tests: whatever bytes a test wants a server to send."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler

import pytest


class RawServer:
    """A TCP server on 127.0.0.1 that reads a request head and answers `answer` bytes as they are."""

    def __init__(self, answer: bytes | Callable[[socket.socket], None]) -> None:
        self.answer = answer
        self.requests: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                self.requests.append(head)
                try:
                    if callable(self.answer):
                        self.answer(conn)
                    else:
                        conn.sendall(self.answer)
                except OSError:
                    pass  # the client stopped reading (an answer too large for it)

    def close(self) -> None:
        self.listener.close()


def response(body: bytes, *, content_type: str = "application/json", extra: str = "", status: str = "200 OK") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


@pytest.fixture
def raw_server() -> Iterator[Callable[[bytes | Callable[[socket.socket], None]], RawServer]]:
    """Starts RawServers answering what a test gives (closed after the test)."""
    servers: list[RawServer] = []

    def start(answer: bytes | Callable[[socket.socket], None]) -> RawServer:
        server = RawServer(answer)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def send_json(handler: BaseHTTPRequestHandler, status: int, body: object) -> None:
    """Answer an http.server request with `body` as JSON (for stand-in servers)."""
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
