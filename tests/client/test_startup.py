"""What start-up leaves out (imports, the CA bundle for plain HTTP), and that leaving it out changes nothing else.

Start-up speed itself is measured in benchmarks/tui_startup.py; these tests pin the behaviour it relies on.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from inbox_tui.api.client import CoderClient
from inbox_tui.api.errors import ConnectionFailed
from tests.tools import require_tool

# Run in a fresh interpreter: the test process has long since imported everything.
IMPORT_PROBE = """
import json, sys
import inbox_tui.cli
loaded = sorted(name for name in sys.modules if name.split(".")[0] in {
    "websockets", "click", "pygments", "rich", "textual", "markdown_it", "tomllib", "tomli_w",
} or name in ("httpx._main", "inbox_tui.api.watch", "inbox_tui.api.resync", "inbox_tui.embedded"))
import httpx
usable = callable(httpx.main) and httpx.AsyncClient is not None
try:
    import click, pygments, rich  # httpx's CLI needs all three
except ImportError:
    cli_module = "unavailable"
else:
    import httpx._main  # the block is lifted once httpx is loaded
    cli_module = "importable" if callable(httpx._main.main) else "broken"
print(json.dumps({"loaded": loaded, "usable": usable, "cli_module": cli_module}))
"""


def test_importing_the_cli_leaves_out_the_watch_the_launcher_and_httpx_cli(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE], capture_output=True, text=True, timeout=60, check=True, cwd=tmp_path
    )
    report = json.loads(result.stdout)
    assert report["loaded"] == []
    assert report["usable"] is True
    assert report["cli_module"] in ("importable", "unavailable")


# -- plain HTTP skips the CA bundle; https keeps verifying ----------------------------------------


@pytest.fixture
def ca_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every time an SSL context loads CA certificates (the slow part of building a verifying one)."""
    calls: list[str] = []
    load_verify = ssl.SSLContext.load_verify_locations
    load_default = ssl.SSLContext.load_default_certs

    def verify_locations(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        calls.append("load_verify_locations")
        load_verify(self, *args, **kwargs)

    def default_certs(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        calls.append("load_default_certs")
        load_default(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", verify_locations)
    monkeypatch.setattr(ssl.SSLContext, "load_default_certs", default_certs)
    return calls


@asynccontextmanager
async def http_server(
    answer: bytes = b"{}", ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[int, list[str]]]:
    """A one-route HTTP/1.1 server on 127.0.0.1 that records each request line and answers `answer` as JSON."""
    request_lines: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            writer.close()
            return
        request_lines.append(head.split(b"\r\n", 1)[0].decode())
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(answer)}\r\n\r\n".encode()
            + answer
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ssl_context)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port, request_lines
    finally:
        server.close()
        await server.wait_closed()


def clear_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


async def test_plain_http_client_loads_no_ca_bundle_and_works(
    ca_loads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_proxies(monkeypatch)
    server = http_server(b'{"version": "v2.20.0"}')
    async with server as (port, requests), CoderClient(f"http://127.0.0.1:{port}", "t") as client:
        assert ca_loads == []
        assert (await client.buildinfo())["version"] == "v2.20.0"
    assert requests == ["GET /api/v2/buildinfo HTTP/1.1"]
    assert ca_loads == []


async def test_https_client_still_loads_the_ca_bundle(ca_loads: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    clear_proxies(monkeypatch)
    # The connection pool (and its SSL context) is built with the first request, which fails here.
    for url in ("https://coder.example.invalid", "https://127.0.0.1:1"):
        ca_loads.clear()
        async with CoderClient(url, "t", timeout=5) as client:
            with pytest.raises(ConnectionFailed):
                await client.buildinfo()
        assert ca_loads


async def test_plain_http_to_a_remote_host_still_goes_through_the_environment_proxy(
    ca_loads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_proxies(monkeypatch)
    async with http_server(b'{"version": "v2.20.0"}') as (port, requests):
        monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{port}")
        async with CoderClient("http://coder.example.invalid", "t") as client:
            assert (await client.buildinfo())["version"] == "v2.20.0"
    # The proxy got the request in absolute form: it was used, as httpx's default transport does.
    assert requests == ["GET http://coder.example.invalid/api/v2/buildinfo HTTP/1.1"]


async def test_loopback_http_ignores_the_environment_proxy(
    ca_loads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_proxies(monkeypatch)
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:1")  # nothing listens there
    async with http_server() as (port, requests), CoderClient(f"http://127.0.0.1:{port}", "t") as client:
        assert await client.buildinfo() == {}
    assert requests == ["GET /api/v2/buildinfo HTTP/1.1"]
    assert ca_loads == []


def self_signed(tmp_path: Path) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for 127.0.0.1 (made with the openssl CLI)."""
    openssl = str(require_tool("openssl", "openssl"))
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"),
            *("-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def test_https_rejects_a_certificate_it_cannot_verify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_proxies(monkeypatch)
    server_context = self_signed(tmp_path)
    loop = asyncio.get_running_loop()
    # The server side of the refused handshake is expected; keep it out of the log.
    default_handler: Callable[..., Any] | None = loop.get_exception_handler()
    loop.set_exception_handler(lambda loop, context: None)
    try:
        server = http_server(ssl_context=server_context)
        async with server as (port, requests), CoderClient(f"https://127.0.0.1:{port}", "t") as client:
            with pytest.raises(ConnectionFailed, match=r"(?i)certificate verify failed"):
                await client.buildinfo()
        assert requests == []
    finally:
        loop.set_exception_handler(default_handler)


def test_opening_the_inbox_reads_the_config_and_the_ui_state_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import inbox_tui.app
    import inbox_tui.connection
    from inbox_tui.commands.inbox import run_inbox
    from inbox_tui.config import Config
    from inbox_tui.state import Filters
    from inbox_tui.ui_state import UiState

    for name, folder in (("CONFIG", "config"), ("DATA", "data"), ("STATE", "state")):
        monkeypatch.setenv(f"INBOX_TUI_{name}_DIR", str(tmp_path / folder))
    (tmp_path / "config").mkdir(mode=0o700)
    (tmp_path / "config" / "config.toml").write_text('theme = "nord"\n')
    (tmp_path / "state").mkdir(mode=0o700)
    (tmp_path / "state" / "ui-state.json").write_text(json.dumps({"filters": {"read_status": "unread"}}))

    def read_again() -> Config:
        raise AssertionError("the config file was read a second time")

    monkeypatch.setattr(inbox_tui.connection, "load_config", read_again)
    loads: list[Path | None] = []
    load = UiState.load.__func__  # type: ignore[attr-defined]

    def counted(cls: type[UiState], path: Path | None = None) -> UiState:
        loads.append(path)
        return load(cls, path)  # type: ignore[no-any-return]

    monkeypatch.setattr(UiState, "load", classmethod(counted))
    given: dict[str, Any] = {}
    monkeypatch.setattr(inbox_tui.app, "run_app", lambda connection, **kwargs: given.update(kwargs))

    assert run_inbox("http://127.0.0.1:9", "t") == 0
    assert len(loads) == 1
    assert given["config"].theme == "nord"
    assert given["remembered"].read_status == "unread"
    assert given["first_page"].filters == Filters(read_status="unread")
