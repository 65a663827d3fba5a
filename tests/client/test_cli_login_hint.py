"""The `login` prompt says where a token comes from (issue 11): Coder's /cli-auth only on Coder.

The prompt appears only on a terminal, so `login` runs on a pseudo-terminal here; it has no controlling
terminal (its own session), so getpass reads the token from that terminal's stdin.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from inbox_tui.api.deployment import KIND_CODER, KIND_INBOX_SERVER, KIND_UNKNOWN, deployment_kind, kind_from_buildinfo
from tests.client.raw_http import send_json
from tests.client.test_cli_live import env
from tests.live_server import LiveServer

__all__ = ["env"]  # the fixture, imported for the tests below


def login_on_a_terminal(environ: dict[str, str], url: str, token: str) -> tuple[int, str]:
    """Run `inbox-tui login URL` with a pseudo-terminal as stdin; type `token` at the prompt."""
    master, slave = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "inbox_tui.cli", "login", url],
        env=environ,
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    os.close(slave)
    try:
        output = b""
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while b"Paste your token here" not in output:
            assert time.monotonic() < deadline, output
            ready, _, _ = select.select([process.stdout, master], [], [], 0.5)
            for stream in ready:
                fd = stream if isinstance(stream, int) else stream.fileno()
                output += os.read(fd, 4096)
        os.write(master, token.encode() + b"\n")
        rest, _ = process.communicate(timeout=60)
        return process.returncode, (output + rest).decode()
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()


class _FakeCoder(BaseHTTPRequestHandler):
    """Coder's buildinfo (a real Coder version string); every other path is Coder's 401."""

    def do_GET(self) -> None:
        if self.path == "/api/v2/buildinfo":
            body, status = {"version": "v2.24.1+abcdef0", "external_url": "https://github.com/coder/coder"}, 200
        else:
            body, status = {"message": "You must be logged in to access this resource."}, 401
        send_json(self, status, body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def fake_coder() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeCoder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_inbox_server_prompt_names_its_token_command(live_server: LiveServer, env: dict[str, str]) -> None:
    status, output = login_on_a_terminal(env, live_server.url, live_server.member_token)
    assert status == 0, output
    assert f"{live_server.url} is an inbox-server: on its host, `inbox-server tokens create --user NAME`" in output
    assert "cli-auth" not in output
    assert f"Logged in to {live_server.url} as member." in output


def test_coder_prompt_suggests_cli_auth(fake_coder: str, env: dict[str, str]) -> None:
    status, output = login_on_a_terminal(env, fake_coder, "abcdefghij-0123456789abcdefghijklmn")
    assert status == 1  # the fake takes no token; the hint came first
    assert f"Create a session token for {fake_coder}: open {fake_coder}/cli-auth in a signed-in browser" in output
    assert "inbox-server" not in output


def test_an_unreachable_server_gets_both_hints(env: dict[str, str]) -> None:
    url = "http://127.0.0.1:9"  # discard: nothing listens
    status, output = login_on_a_terminal(env, url, "abcdefghij-0123456789abcdefghijklmn")
    assert status == 1
    assert "`coder tokens create` on a Coder deployment, `inbox-server tokens create --user NAME`" in output
    assert "cli-auth" not in output


async def test_buildinfo_tells_the_kind(live_server: LiveServer, fake_coder: str) -> None:
    assert await deployment_kind(live_server.url) == KIND_INBOX_SERVER
    assert await deployment_kind(fake_coder) == KIND_CODER
    assert await deployment_kind("http://127.0.0.1:9") == KIND_UNKNOWN
    assert kind_from_buildinfo({}) == KIND_UNKNOWN
