"""SIGTERM/SIGINT: stop accepting, finish what is in flight, flush, exit 0; a second signal exits at once."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import time
from pathlib import Path

import pytest

from tests.live_server import LiveServer
from tests.server.helpers import inbox

SHUTTING_DOWN = "shutting down (finishing in-flight requests"


def _start_request(server: LiveServer, body: bytes, sent: int) -> socket.socket:
    """A POST whose body has only partly arrived: in flight until the rest is sent."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    head = (
        "POST /api/v2/notifications/custom HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Coder-Session-Token: {server.owner_token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    sock.sendall(head.encode() + body[:sent])
    return sock


def _wait_for_log(server: LiveServer, text: str) -> None:
    deadline = time.monotonic() + 30
    while text not in server.log_path.read_text():
        assert time.monotonic() < deadline, f"{text!r} never logged:\n{server.log_path.read_text()}"
        time.sleep(0.02)


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def _wait_until_refused(port: int) -> None:
    deadline = time.monotonic() + 30
    while not _refused(port):
        assert time.monotonic() < deadline, "the server kept accepting connections"
        time.sleep(0.02)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_signal_drains_the_request_in_flight_then_exits_0(tmp_path: Path, signum: signal.Signals) -> None:
    server = LiveServer(tmp_path).start()
    body = json.dumps({"content": {"title": "sent during shutdown", "message": "it still arrives"}}).encode()
    sock = _start_request(server, body, 10)
    try:
        await asyncio.sleep(0.5)  # the server reads the request head before the signal comes
        assert server.proc is not None
        server.proc.send_signal(signum)
        _wait_for_log(server, f"{signum.name}: {SHUTTING_DOWN}")
        _wait_until_refused(server.port)  # new connections are no longer accepted...
        sock.sendall(body[10:])  # ...while the one in flight is finished
        reply = sock.recv(65536).decode()
        assert reply.startswith("HTTP/1.1 204"), reply
        assert server.proc.wait(30) == 0
    finally:
        sock.close()
        server.stop()

    server.start()  # the store was flushed: what was accepted during shutdown is there
    try:
        items = (await inbox(server, server.owner_token))["notifications"]
        assert [item["title"] for item in items] == ["sent during shutdown"]
    finally:
        server.stop()


def test_second_signal_exits_at_once(tmp_path: Path) -> None:
    server = LiveServer(tmp_path, args=["--graceful-shutdown-timeout", "10m"]).start()
    sock = _start_request(server, b'{"content": {"title": "never finished", "message": "x"}}', 5)
    try:
        time.sleep(0.5)  # the server reads the request head before the signal comes
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        _wait_for_log(server, f"SIGTERM: {SHUTTING_DOWN}")
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(60) == 128 + signal.SIGTERM  # not the ten minutes the drain may take
        assert "second SIGTERM: exiting at once" in server.log_path.read_text()
    finally:
        sock.close()
        server.kill()
