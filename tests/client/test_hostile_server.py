"""A hostile server cannot write to the terminal through the CLI (issue 12, section 6).

A tiny real HTTP server on 127.0.0.1 answers every request with strings full of escape sequences
(OSC 52 clipboard writes, CSI screen clears, 8-bit C1 CSI), C0 controls and bidi overrides; the real
`inbox-tui` commands run as subprocesses against it, and their stdout and stderr must hold none of it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from inbox_tui.api.errors import ApiError
from inbox_tui.text import clean_line, terminal_safe
from tests.client.fakes import notification_json

HOSTILE = "boom \x1b]52;c;aGFja2Vk\x07 \x1b[2J \x9b31m \x9d52;c;eA==\x9c \u202eevil\u202c \x00\x08\r\x1bc end"
# What must never reach the terminal: ESC, BEL, BS, NUL, CR, C1 CSI/OSC/ST, bidi override and pop.
FORBIDDEN = ["\x1b", "\x07", "\x08", "\x00", "\r", "\x9b", "\x9d", "\x9c", "\u202e", "\u202c"]
NOTIFICATION_ID = "00000000-0000-4000-8000-0000000000dd"  # fixed: the same parameters in every run


class StubServer:
    """Answers per `mode`: `json` (Coder's error shape, hostile), `text` (a non-JSON error), `ok` (hostile data)."""

    def __init__(self) -> None:
        self.mode = "json"
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                status, content_type, body = stub.respond(self.command, self.path)
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def respond(self, method: str, path: str) -> tuple[int, str, bytes]:
        if self.mode == "text":
            return 502, "text/plain", HOSTILE.encode()
        if self.mode == "json":
            body = {"message": HOSTILE, "detail": HOSTILE, "validations": [{"field": HOSTILE, "detail": HOSTILE}]}
            return 400, "application/json", json.dumps(body).encode()
        if path.startswith("/api/v2/users/me"):
            user = {"id": str(uuid.uuid4()), "username": HOSTILE, "roles": [{"name": HOSTILE}]}
            return 200, "application/json", json.dumps(user).encode()
        item = notification_json(0)
        item.update(id=NOTIFICATION_ID, title=HOSTILE, content=HOSTILE)
        if "/read-status" in path:
            return 200, "application/json", json.dumps({"notification": item, "unread_count": 1}).encode()
        if path.startswith("/api/v2/notifications/inbox") and method == "GET":
            return 200, "application/json", json.dumps({"notifications": [item], "unread_count": 1}).encode()
        return 204, "application/json", b""


@pytest.fixture
def stub() -> Iterator[StubServer]:
    server = StubServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


COMMANDS = [
    ["list"],
    ["read", NOTIFICATION_ID],
    ["read-all"],
    ["send", "title", "message"],
    ["pause"],
    ["whoami"],
]


def run_cli(stub: StubServer, tmp_path: Path, args: list[str]) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODER_")}
    env.update(
        INBOX_TUI_CONFIG_DIR=str(tmp_path / "config"),
        INBOX_TUI_DATA_DIR=str(tmp_path / "data"),
        INBOX_TUI_STATE_DIR=str(tmp_path / "state"),
        CODER_CONFIG_DIR=str(tmp_path / "coder"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "inbox_tui.cli", "--url", stub.url, "--token", "abcdefghij-" + "x" * 22, *args],
        capture_output=True,
        env=env,
        timeout=60,
    )
    return done.returncode, (done.stdout + done.stderr).decode("utf-8", "replace")


@pytest.mark.parametrize("mode", ["json", "text", "ok"])
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_no_server_controlled_control_characters(stub: StubServer, tmp_path: Path, mode: str, args: list[str]) -> None:
    stub.mode = mode
    code, output = run_cli(stub, tmp_path, args)
    if mode != "ok":
        assert code != 0, output
    for char in FORBIDDEN:
        assert char not in output, (char, output)
    if mode != "ok" or args[0] in ("list", "whoami"):
        assert "boom" in output and "end" in output, output  # the text itself is still shown
    assert "aGFja2Vk" not in output and "eA==" not in output, output  # OSC payloads go whole


def test_the_sanitiser() -> None:
    cleaned = terminal_safe(HOSTILE)
    for char in FORBIDDEN:
        assert char not in cleaned
    assert cleaned.startswith("boom ") and cleaned.endswith(" end") and "evil" in cleaned
    assert clean_line("a\n\tb\x1b[31m c ") == "a b c"
    assert terminal_safe("line one\r\nline two\tx") == "line one\nline two\tx"
    assert terminal_safe("keep \u200d zwj, é, 日本") == "keep \u200d zwj, é, 日本"


def test_api_errors_hold_only_terminal_safe_text() -> None:
    """The TUI reads `message`, `detail` and `validations` straight from the error: they are clean."""
    body = json.dumps({"message": HOSTILE, "detail": HOSTILE, "validations": [{"field": HOSTILE, "detail": HOSTILE}]})
    error = ApiError.from_body(
        method="GET", url="http://x", status=400, content_type="application/json", body=body.encode()
    )
    texts = [error.message, error.detail, *error.validations[0], *error.field_errors, str(error)]
    for text in texts:
        assert "boom" in text
        for char in FORBIDDEN:
            assert char not in text, (char, text)
    plain = ApiError.from_body(
        method="GET", url="http://x", status=502, content_type="text/html", body=HOSTILE.encode()
    )
    assert all(char not in plain.detail for char in FORBIDDEN)
