"""`inbox-tui status` (issue 11): one line for status bars, nothing and exit 1 when there is no answer.

Run through `inbox_tui.entry` (the console script) as a status bar would, against a real server over TCP
and the shared local server over its Unix socket. Its speed is a benchmark (benchmarks/status_line.py),
not a test; what keeps it fast, that the path loads no httpx, asyncio, Textual or inbox_tui.cli, is tested.
"""

from __future__ import annotations

import ssl
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from inbox_tui.api.client import CoderClient
from inbox_tui.commands.status import render_line, status_fields
from inbox_tui.entry import is_status_command
from tests.client.raw_http import send_json
from tests.client.test_cli_live import as_user, env, wait_for
from tests.live_server import LiveServer
from tests.local_env import LocalEnv

__all__ = ["env"]  # the fixture, imported for the tests below

# Runs the console script's main() and reports which heavy modules it loaded.
PROBE = (
    "import sys\n"
    "from inbox_tui.entry import main\n"
    "code = main(sys.argv[1:])\n"
    "names = ('httpx', 'asyncio', 'textual', 'inbox_tui.cli', 'inbox_tui.api', 'inbox_tui.config', 'argparse')\n"
    "heavy = [m for m in names if m in sys.modules]\n"
    "print('loaded:', ','.join(heavy), file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def status(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`inbox-tui ARGS` through the console script's entry (stderr ends with the `loaded:` line)."""
    return subprocess.run([sys.executable, "-c", PROBE, *args], env=environ, capture_output=True, text=True, timeout=60)


def _stderr(done: subprocess.CompletedProcess[str], *, lean: bool = True) -> str:
    """stderr without the `loaded:` line; checks that the run stayed lean (status_fast), or at least
    loaded no HTTP client, event loop, Textual or CLI module (the full resolution, `lean=False`)."""
    lines = done.stderr.splitlines()
    loaded = set(lines[-1].removeprefix("loaded: ").split(",")) - {""}
    assert loaded <= (set() if lean else {"inbox_tui.config", "argparse"}), done.stderr
    return "\n".join(lines[:-1])


async def _unread_at_least(server: LiveServer, token: str, count: int) -> None:
    async with CoderClient(server.url, token) as client:

        async def enough() -> bool | None:
            return True if (await client.list_inbox()).unread_count >= count else None

        await wait_for(enough)


async def test_counts_and_formats_over_tcp(live_server: LiveServer, env: dict[str, str]) -> None:
    member = as_user(live_server, live_server.member_token)
    zero = status(env, "status", *member)
    assert (zero.returncode, zero.stdout, _stderr(zero)) == (0, "0 unread\n", "")
    hidden = status(env, *member, "status", "--hide-zero")  # global flags before the command too
    assert (hidden.returncode, hidden.stdout) == (0, "")
    async with CoderClient(live_server.url, live_server.member_token) as client:
        for i in range(3):
            await client.send_custom(f"Build {i}", "done")
    await _unread_at_least(live_server, live_server.member_token, 3)
    three = status(env, "status", *member)
    assert (three.returncode, three.stdout) == (0, "3 unread\n")
    host = live_server.url.removeprefix("http://")
    custom = status(env, "status", "--format", "[{unread}] {newest} ({age}) @ {deployment}", *member)
    assert custom.stdout == f"[3] Build 2 (now) @ {host}\n", custom.stderr
    assert status(env, "status", "--format={unread:>3}", *member).stdout == "  3\n"


def test_unreachable_or_refused_prints_nothing_and_exits_1(live_server: LiveServer, env: dict[str, str]) -> None:
    gone = status(env, "status", "--url", "http://127.0.0.1:9", "--token", "x")
    assert (gone.returncode, gone.stdout) == (1, "")
    assert _stderr(gone).startswith("inbox-tui status: GET http://127.0.0.1:9/api/v2/notifications/inbox?")
    refused = status(env, "status", "--url", live_server.url, "--token", "abcdefghij-0123456789abcdefghijklmn")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert "unexpected status code 401" in _stderr(refused)
    unconfigured = status(env, "status", "--url", live_server.url)
    assert (unconfigured.returncode, unconfigured.stdout) == (1, "")
    assert "no session token" in _stderr(unconfigured, lean=False)


def test_a_bad_format_is_a_usage_error_naming_the_fields(env: dict[str, str]) -> None:
    done = status(env, "status", "--format", "{count}")
    assert (done.returncode, done.stdout) == (2, "")
    assert _stderr(done) == (
        "inbox-tui status: invalid --format '{count}': unknown field {count}; "
        "fields: {unread}, {newest}, {age}, {deployment}"
    )
    assert status(env, "status", "--format", "{unread").returncode == 2
    typo = status(env, "status", "--formt", "x")  # not for the lean path: argparse says what is wrong
    assert typo.returncode == 2
    assert "unrecognized arguments: --formt" in typo.stderr


async def test_local_server_over_its_socket_and_never_started_by_status(local_env: LocalEnv) -> None:
    stopped = status(local_env.env, "status")
    assert (stopped.returncode, stopped.stdout) == (1, "")
    assert "the local server is not running" in _stderr(stopped, lean=False)  # no runtime dir yet
    assert local_env.server_pids() == []  # status did not start it
    assert local_env.cli("server", "start").returncode == 0
    assert status(local_env.env, "status", "--format", "{unread} @ {deployment}").stdout == "0 @ local\n"
    assert local_env.cli("send", "Local", "hello").returncode == 0

    async def one_unread() -> bool | None:
        return True if status(local_env.env, "status").stdout == "1 unread\n" else None

    await wait_for(one_unread)
    # The slow path (python -m inbox_tui.cli status) prints the same line.
    assert local_env.cli("status").stdout == "1 unread\n"


def test_only_status_after_global_flags_takes_the_fast_path() -> None:
    assert is_status_command(["status"])
    assert is_status_command(["--url", "http://x", "--token=t", "--demo", "status", "--format", "{unread}"])
    assert not is_status_command(["server", "status"])
    assert not is_status_command(["--url", "status"])  # `status` is the URL here: cli.main reports it
    assert not is_status_command(["-h", "status"])
    assert not is_status_command([])


def test_server_text_in_the_line_is_one_safe_line() -> None:
    now = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    page = {
        "unread_count": 7,
        "notifications": [
            {"title": "Deploy\x1b]52;c;aGk=\x07 done\n\u202eevil", "created_at": (now - timedelta(hours=3)).isoformat()}
        ],
    }
    fields = status_fields(page, "coder.example.com", now)
    assert fields == {"unread": 7, "newest": "Deploy done evil", "age": "3h", "deployment": "coder.example.com"}
    assert render_line("{newest}", {**fields, "newest": "a\x1b[2Jb"}) == "ab"


def test_demo_without_an_open_demo_inbox_prints_nothing(env: dict[str, str]) -> None:
    done = status(env, "--demo", "status")
    assert (done.returncode, done.stdout) == (1, "")
    assert _stderr(done, lean=False) == "inbox-tui status: no demo inbox is open"
    both = status(env, "status", "--demo", "--url", "http://127.0.0.1:9")
    assert (both.returncode, both.stdout) == (1, "")
    assert "--demo cannot be combined with --url or --token" in _stderr(both, lean=False)


class _HttpsInbox(BaseHTTPRequestHandler):
    """A deployment behind TLS (inbox-server serves plain HTTP; Coder is usually behind https)."""

    def do_GET(self) -> None:
        ok = self.path == "/coder/api/v2/notifications/inbox?read_status=unread"
        ok = ok and self.headers.get("Coder-Session-Token") == "tls-token"
        send_json(self, 200 if ok else 404, {"notifications": [], "unread_count": 2} if ok else {"message": "no"})

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_https_deployment_with_a_path(env: dict[str, str], tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HttpsInbox)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}/coder"
        untrusted = status(env, "status", "--url", url, "--token", "tls-token")
        assert (untrusted.returncode, untrusted.stdout) == (1, "")
        assert "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
        trusted = status({**env, "SSL_CERT_FILE": str(cert)}, "status", "--url", url, "--token", "tls-token")
        assert (trusted.returncode, trusted.stdout) == (0, "2 unread\n"), trusted.stderr
        assert status({**env, "SSL_CERT_FILE": str(cert)}, "status", "--url", url, "--format", "{deployment}",
                      "--token", "tls-token").stdout == f"127.0.0.1:{server.server_address[1]}/coder\n"  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
