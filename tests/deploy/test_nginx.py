"""Two replicas on PostgreSQL behind a real nginx configured from docs/deploy/nginx-inbox.conf.

The API and the watch websocket (upgrade headers) go through nginx; a notification posted through the
proxy reaches a watcher connected through the proxy, whichever replica each landed on.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.live_server import LiveServer
from tests.pg import pg_dsn, pg_server_dsn  # noqa: F401  (fixtures)
from tests.tools import require_tool

pytestmark = pytest.mark.postgres

SNIPPET = Path(__file__).resolve().parents[2] / "docs" / "deploy" / "nginx-inbox.conf"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _nginx_config(folder: Path, ports: list[int], listen: int) -> Path:
    snippet = SNIPPET.read_text()
    assert "least_conn;" in snippet and "proxy_set_header Upgrade $http_upgrade;" in snippet
    snippet = snippet.replace("127.0.0.1:3001", f"127.0.0.1:{ports[0]}").replace(
        "127.0.0.1:3002", f"127.0.0.1:{ports[1]}"
    )
    snippet = snippet.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    (folder / "inbox.conf").write_text(snippet)
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
    config = folder / "nginx.conf"
    config.write_text(
        f"""daemon off;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {folder / "inbox.conf"};
}}
"""
    )
    return config


@pytest.fixture
def nginx_url(tmp_path: Path, pg_dsn: str) -> Iterator[tuple[str, LiveServer]]:  # noqa: F811
    nginx = require_tool("nginx", "nginx")
    first = LiveServer(tmp_path / "r1", db=pg_dsn).start()
    second = LiveServer(tmp_path / "r2", db=pg_dsn)
    second.owner_token, second.member_token = first.owner_token, first.member_token
    second.start()
    folder = tmp_path / "nginx"
    folder.mkdir()
    listen = _free_port()
    config = _nginx_config(folder, [first.port, second.port], listen)
    proc = subprocess.Popen([str(nginx), "-p", str(folder), "-c", str(config)], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, f"nginx exited: {proc.stderr.read() if proc.stderr else ''}"
            try:
                socket.create_connection(("127.0.0.1", listen), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "nginx never listened"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{listen}", first
    finally:
        proc.send_signal(signal.SIGQUIT)  # graceful stop, by PID
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
        first.stop()
        second.stop()


async def test_watch_and_api_through_nginx(nginx_url: tuple[str, LiveServer]) -> None:
    url, server = nginx_url
    headers = server.headers()
    ws_url = "ws" + url[len("http") :] + "/api/v2/notifications/inbox/watch"
    # Two watchers: least_conn puts them on different replicas; both must see what is posted.
    async with connect(ws_url, additional_headers=headers) as one, connect(ws_url, additional_headers=headers) as two:
        async with httpx.AsyncClient(base_url=url + "/api/v2", headers=headers, timeout=30) as c:
            assert (await c.get("/users/me")).json()["username"] == server.owner_username
            sent = await c.post("/notifications/custom", json={"content": {"title": "via nginx", "message": "hi"}})
            assert sent.status_code == 204, sent.text
        for ws in (one, two):
            frame = json.loads(await ws.recv(decode=True))
            assert frame["notification"]["title"] == "via nginx"
