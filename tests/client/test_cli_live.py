"""Every `inbox-tui` command end to end against a real inbox-server (the `live_server` fixture).

The CLI runs as a subprocess with its config, data and state dirs in temporary folders, exactly as a user
or a script would run it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from inbox_tui.api.client import CoderClient
from inbox_tui.api.models import InboxNotification
from tests.live_server import LiveServer
from tests.local_env import LocalEnv

T = TypeVar("T")

FORBIDDEN_DETAIL = (
    "You don't have permission to view this content. If you believe this is a mistake, please contact your "
    "administrator or try signing in with different credentials."
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment with nothing configured: every inbox-tui directory in tmp_path."""
    base = {k: v for k, v in os.environ.items() if k not in ("CODER_URL", "CODER_SESSION_TOKEN")}
    base.update(
        {
            "INBOX_TUI_CONFIG_DIR": str(tmp_path / "config"),
            "INBOX_TUI_DATA_DIR": str(tmp_path / "data"),
            "INBOX_TUI_STATE_DIR": str(tmp_path / "state"),
            "CODER_CONFIG_DIR": str(tmp_path / "coderv2"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return base


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `inbox-tui ARGS` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "inbox_tui.cli", *args],
        env=env,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=120,
    )


def as_user(server: LiveServer, token: str) -> list[str]:
    return ["--url", server.url, "--token", token]


async def wait_for(check: Callable[[], Awaitable[T | None]], within: float = 15.0) -> T:
    """Poll until `check` returns something (delivery is asynchronous, as in Coder)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result is not None:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def delivered(client: CoderClient, title: str) -> InboxNotification:
    async def check() -> InboxNotification | None:
        page = await client.list_inbox()
        return next((n for n in page.notifications if n.title == title), None)

    return await wait_for(check)


# -- the Coder CLI's commands ---------------------------------------------------------------------


def test_member_pause_gets_403_and_exit_1(live_server: LiveServer, env: dict[str, str]) -> None:
    done = cli(env, "pause", *as_user(live_server, live_server.member_token))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        f"unable to pause notifications: PUT {live_server.url}/api/v2/notifications/settings: "
        f"unexpected status code 403: Forbidden.\n\tError: {FORBIDDEN_DETAIL}\n"
    )


async def test_owner_pause_and_resume(live_server: LiveServer, env: dict[str, str]) -> None:
    owner = as_user(live_server, live_server.owner_token)
    paused = cli(env, "pause", *owner)
    assert (paused.returncode, paused.stderr) == (0, "Notifications are now paused.\n")
    async with CoderClient(live_server.url, live_server.owner_token) as client:
        assert (await client.settings()).notifier_paused
        again = cli(env, "pause", *owner)  # 304 from the server is success too
        assert (again.returncode, again.stderr) == (0, "Notifications are now paused.\n")
        resumed = cli(env, "resume", *owner)
        assert (resumed.returncode, resumed.stderr) == (0, "Notifications are now resumed.\n")
        assert not (await client.settings()).notifier_paused


def test_member_resume_and_test_get_403(live_server: LiveServer, env: dict[str, str]) -> None:
    member = as_user(live_server, live_server.member_token)
    owner = as_user(live_server, live_server.owner_token)
    assert cli(env, "pause", *owner).returncode == 0
    resume = cli(env, "resume", *member)
    assert resume.returncode == 1
    assert resume.stderr.startswith(
        f"unable to resume notifications: PUT {live_server.url}/api/v2/notifications/settings: "
        "unexpected status code 403: Forbidden."
    )
    test = cli(env, "test", *member)
    assert test.returncode == 1
    assert test.stderr.startswith(
        f"unable to post test notification: POST {live_server.url}/api/v2/notifications/test: "
        "unexpected status code 403: Forbidden."
    )


async def test_owner_test_notification_arrives(live_server: LiveServer, env: dict[str, str]) -> None:
    done = cli(env, "test", *as_user(live_server, live_server.owner_token))
    assert done.returncode == 0
    assert done.stderr == (
        "A test notification has been sent. If you don't receive the notification, check Coder's logs for any errors.\n"
    )
    async with CoderClient(live_server.url, live_server.owner_token) as client:
        await delivered(client, "A test notification")


async def test_send_and_custom_alias(live_server: LiveServer, env: dict[str, str]) -> None:
    member = as_user(live_server, live_server.member_token)
    sent = cli(env, "send", "Build done", "All **green**", *member)
    assert (sent.returncode, sent.stdout, sent.stderr) == (0, "", "A custom notification has been sent.\n")
    alias = cli(env, "custom", "From stdin", "-", *member, stdin="piped message\n")
    assert alias.returncode == 0, alias.stderr
    async with CoderClient(live_server.url, live_server.member_token) as client:
        build = await delivered(client, "Build done")
        assert build.content == "All **green**"
        piped = await delivered(client, "From stdin")
        assert piped.content == "piped message\n"


def test_send_empty_title_gets_the_400_detail(live_server: LiveServer, env: dict[str, str]) -> None:
    done = cli(env, "send", "  ", "message", *as_user(live_server, live_server.member_token))
    assert done.returncode == 1
    assert done.stderr == (
        f"unable to post custom notification: POST {live_server.url}/api/v2/notifications/custom: "
        "unexpected status code 400: Invalid request body\n"
        "\tError: provide a non-empty 'content.title' and 'content.message'\n"
    )


def test_wrong_argument_count_is_a_usage_error(env: dict[str, str]) -> None:
    done = cli(env, "send", "only a title")
    assert done.returncode == 2
    assert "the following arguments are required: MESSAGE" in done.stderr


def test_bad_token_prints_401_with_login_hint(live_server: LiveServer, env: dict[str, str]) -> None:
    done = cli(env, "list", "--url", live_server.url, "--token", "abcdefghij-0123456789abcdefghijklmn")
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"unable to list notifications: GET {live_server.url}/api/v2/notifications/inbox: unexpected status code "
        "401: You are signed out or your session has expired. Please sign in again to continue.: "
        "Try logging in using 'inbox-tui login <url>'."
    )


def test_unreachable_server_is_readable(env: dict[str, str]) -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    done = cli(env, "list", "--url", f"http://127.0.0.1:{port}", "--token", "a-b")
    assert done.returncode == 1
    assert done.stderr == (
        f"unable to list notifications: GET http://127.0.0.1:{port}/api/v2/notifications/inbox: "
        "connection refused (is the server running?)\n"
    )


# -- list, read, unread, read-all -----------------------------------------------------------------


async def test_list_read_unread_read_all(live_server: LiveServer, env: dict[str, str]) -> None:
    member = as_user(live_server, live_server.member_token)
    async with CoderClient(live_server.url, live_server.member_token) as client:
        for i in range(3):
            await client.send_custom(f"Item {i}", f"body {i}")
        for i in range(3):
            await delivered(client, f"Item {i}")

        listed = cli(env, "list", *member)
        assert listed.returncode == 0, listed.stderr
        lines = listed.stdout.splitlines()
        assert [line.split(None, 3)[3] for line in lines] == ["Item 2", "Item 1", "Item 0"]
        assert all(line.split()[1] == "unread" for line in lines)
        assert listed.stderr == "3 unread.\n"
        first_id = lines[0].split()[0]

        read = cli(env, "read", first_id, *member)
        assert (read.returncode, read.stderr) == (0, f"Notification {first_id} marked as read (2 unread).\n")
        assert (await client.list_inbox(read_status="read")).notifications[0].id == first_id

        unread_only = cli(env, "list", "--unread", "--json", *member)
        body = json.loads(unread_only.stdout)
        assert [n["title"] for n in body["notifications"]] == ["Item 1", "Item 0"]
        assert body["unread_count"] == 2

        unread = cli(env, "unread", first_id, *member)
        assert (unread.returncode, unread.stderr) == (0, f"Notification {first_id} marked as unread (3 unread).\n")

        read_all = cli(env, "read-all", *member)
        assert (read_all.returncode, read_all.stderr) == (0, "All notifications marked as read.\n")
        assert (await client.list_inbox()).unread_count == 0
        assert cli(env, "list", "--unread", *member).stderr == "No notifications.\n0 unread.\n"


async def test_list_filters_and_paging(live_server: LiveServer, env: dict[str, str]) -> None:
    member = as_user(live_server, live_server.member_token)
    async with CoderClient(live_server.url, live_server.member_token) as client:
        for i in range(30):
            await client.send_custom(f"Page item {i}", "x")
        await delivered(client, "Page item 29")
        await wait_for(lambda: _count_at_least(client, 30))
    one_page = json.loads(cli(env, "list", "--json", *member).stdout)
    assert len(one_page["notifications"]) == 25
    everything = json.loads(cli(env, "list", "--all", "--json", *member).stdout)
    assert len(everything["notifications"]) == 30
    assert len({n["id"] for n in everything["notifications"]}) == 30
    custom = "39b1e189-c857-4b0c-877a-511144c18516"
    test_template = "c425f63e-716a-4bf4-ae24-78348f706c3f"
    by_template = json.loads(cli(env, "list", "--json", "--template", test_template, *member).stdout)
    assert by_template["notifications"] == [] and by_template["unread_count"] == 30
    assert len(json.loads(cli(env, "list", "--json", "--template", custom, *member).stdout)["notifications"]) == 25
    # Custom notifications have no targets, so a target filter matches none of them.
    target = "00000000-0000-4000-8000-000000000001"
    assert json.loads(cli(env, "list", "--json", "--target", target, *member).stdout)["notifications"] == []
    bad = cli(env, "list", "--template", "nope", *member)
    assert bad.returncode == 1
    # Not an id, so a template name (issue 11): one that names no template is our error, not the server's 400.
    assert bad.stderr == 'no template is named "nope" (`inbox-tui templates` lists them)\n'


async def _count_at_least(client: CoderClient, n: int) -> bool | None:
    page = await client.list_inbox()
    return True if page.unread_count >= n else None


def test_read_unknown_id_fails(live_server: LiveServer, env: dict[str, str]) -> None:
    done = cli(env, "read", "00000000-0000-4000-8000-00000000dead", *as_user(live_server, live_server.member_token))
    assert done.returncode == 1
    # Coder answers 500 here, our server 404 (docs/compatibility.md); either way: a readable failure.
    assert done.stderr.startswith(
        f"unable to mark notification 00000000-0000-4000-8000-00000000dead as read: PUT {live_server.url}"
        "/api/v2/notifications/inbox/00000000-0000-4000-8000-00000000dead/read-status: unexpected status code "
    )


# -- watch ----------------------------------------------------------------------------------------


class Watch:
    """`inbox-tui watch` running in the background, its lines read as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.stderr_lines: list[str] = []

    @classmethod
    async def start(cls, env: dict[str, str], *args: str) -> Watch:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "inbox_tui.cli",
            "watch",
            *args,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def stderr_until(self, text: str, within: float = 30.0) -> str:
        assert self.process.stderr is not None
        while True:
            line = (await asyncio.wait_for(self.process.stderr.readline(), within)).decode()
            if not line:
                raise AssertionError(f"watch ended; stderr so far: {self.stderr_lines}")
            self.stderr_lines.append(line)
            if text in line:
                return line

    async def line(self, within: float = 30.0) -> str:
        assert self.process.stdout is not None
        return (await asyncio.wait_for(self.process.stdout.readline(), within)).decode()

    async def interrupt(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)
        return await asyncio.wait_for(self.process.wait(), 30)

    async def close(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


async def test_watch_json_prints_a_notification_sent_after_it_started(
    live_server: LiveServer, env: dict[str, str]
) -> None:
    async with CoderClient(live_server.url, live_server.member_token) as client:
        await client.send_custom("Before watch", "old")
        await delivered(client, "Before watch")
        watch = await Watch.start(env, "--json", *as_user(live_server, live_server.member_token))
        try:
            await watch.stderr_until("Watching for new notifications")
            await client.send_custom("After watch", "**new**")
            event = json.loads(await watch.line())
            assert event["notification"]["title"] == "After watch"
            assert event["notification"]["content"] == "new"  # plaintext by default
            assert event["unread_count"] == 2
            assert await watch.interrupt() == 130
            assert await watch.process.stdout.read() == b""  # type: ignore[union-attr]
        finally:
            await watch.close()


async def test_watch_markdown_lines_and_filters(live_server: LiveServer, env: dict[str, str]) -> None:
    args = ["--format", "markdown", "--template", "39b1e189-c857-4b0c-877a-511144c18516"]
    watch = await Watch.start(env, *args, *as_user(live_server, live_server.owner_token))
    try:
        await watch.stderr_until("Watching for new notifications")
        async with CoderClient(live_server.url, live_server.owner_token) as client:
            await client.send_test()  # another template: filtered out by the server
            await delivered(client, "A test notification")
            await client.send_custom("Deploy", "Line one\nline **two**\x1b[31m")
        line = await watch.line()
        assert line.endswith("  Deploy - Line one line **two**\n")  # one line, escape sequence removed
    finally:
        await watch.close()


async def test_watch_reconnects_after_restart_and_loses_nothing(live_server: LiveServer, env: dict[str, str]) -> None:
    watch = await Watch.start(env, "--json", *as_user(live_server, live_server.member_token))
    try:
        await watch.stderr_until("Watching for new notifications")
        async with CoderClient(live_server.url, live_server.member_token) as client:
            await client.send_custom("Before restart", "a")
            assert json.loads(await watch.line())["notification"]["title"] == "Before restart"
        await asyncio.to_thread(live_server.stop)
        await watch.stderr_until("reconnecting in")
        await asyncio.to_thread(live_server.start)
        async with CoderClient(live_server.url, live_server.member_token) as client:
            for i in range(3):
                await client.send_custom(f"After restart {i}", "b")
            await watch.stderr_until("Reconnected.")
            titles = [json.loads(await watch.line())["notification"]["title"] for _ in range(3)]
            assert sorted(titles) == ["After restart 0", "After restart 1", "After restart 2"]
            await client.send_custom("Sentinel", "c")
            # Nothing doubled: the next line is the sentinel, not a repeat.
            assert json.loads(await watch.line())["notification"]["title"] == "Sentinel"
    finally:
        await watch.close()


async def test_watch_catches_up_once_on_what_arrived_while_the_server_was_down(
    live_server: LiveServer, env: dict[str, str]
) -> None:
    """The server is killed (SIGKILL, by PID) and started again on the same address and database; what
    reached the inbox before the watch got back in is printed by the catch-up, each exactly once."""
    watch = await Watch.start(env, "--json", *as_user(live_server, live_server.member_token))
    try:
        await watch.stderr_until("Watching for new notifications")
        async with CoderClient(live_server.url, live_server.member_token) as client:
            await client.send_custom("Before the crash", "a")
            assert json.loads(await watch.line())["notification"]["title"] == "Before the crash"
        port = live_server.port
        await asyncio.to_thread(live_server.kill)
        await watch.stderr_until("reconnecting in")
        # Hold the watch (SIGSTOP) while the server comes back and the notifications land, so they can only
        # reach it through the catch-up after it reconnects, not live.
        watch.process.send_signal(signal.SIGSTOP)
        try:
            await asyncio.to_thread(live_server.start)
            assert live_server.port == port
            async with CoderClient(live_server.url, live_server.member_token) as client:
                for i in range(3):
                    await client.send_custom(f"While away {i}", "b")
                for i in range(3):
                    await delivered(client, f"While away {i}")
        finally:
            watch.process.send_signal(signal.SIGCONT)
        await watch.stderr_until("Reconnected.")
        titles = [json.loads(await watch.line())["notification"]["title"] for _ in range(3)]
        assert titles == ["While away 0", "While away 1", "While away 2"]  # oldest first, as they arrived
        async with CoderClient(live_server.url, live_server.member_token) as client:
            await client.send_custom("Sentinel", "c")
            # Nothing printed twice: the next line is the sentinel, not a repeat of the catch-up or of the
            # notification from before the crash.
            assert json.loads(await watch.line())["notification"]["title"] == "Sentinel"
    finally:
        await watch.close()


async def test_watch_with_bad_token_exits_1(live_server: LiveServer, env: dict[str, str]) -> None:
    watch = await Watch.start(env, "--url", live_server.url, "--token", "abcdefghij-0123456789abcdefghijklmn")
    try:
        assert await asyncio.wait_for(watch.process.wait(), 30) == 1
        assert watch.process.stderr is not None
        err = (await watch.process.stderr.read()).decode()
        assert err.startswith(
            f"unable to watch notifications: GET {live_server.url}/api/v2/notifications/inbox/watch?format=plaintext: "
            "unexpected status code 401:"
        )
    finally:
        await watch.close()


# -- login, logout, whoami and the resolution order -----------------------------------------------


async def test_login_whoami_logout(live_server: LiveServer, env: dict[str, str], tmp_path: Path) -> None:
    bad = cli(env, "login", live_server.url, stdin="abcdefghij-0123456789abcdefghijklmn\n")
    assert bad.returncode == 1
    assert bad.stderr.startswith(f"unable to log in: GET {live_server.url}/api/v2/users/me: unexpected status code 401")
    assert not (tmp_path / "config" / "token").exists()

    good = cli(env, "login", live_server.url + "/", stdin=live_server.member_token + "\n")
    assert good.returncode == 0, good.stderr
    assert good.stderr.startswith(f"Logged in to {live_server.url} as member.")
    token_file = tmp_path / "config" / "token"
    assert token_file.read_text().strip() == live_server.member_token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert f'url = "{live_server.url}"' in (tmp_path / "config" / "config.toml").read_text()

    whoami = cli(env, "whoami")
    assert (whoami.returncode, whoami.stdout) == (0, f"member (member) at {live_server.url} [inbox-tui config]\n")
    # The environment beats the config file.
    owner_env = {**env, "CODER_URL": live_server.url, "CODER_SESSION_TOKEN": live_server.owner_token}
    assert cli(owner_env, "whoami").stdout.startswith("owner (owner) at ")

    out = cli(env, "logout")
    assert (out.returncode, out.stderr) == (
        0,
        "You are no longer logged in. You can log in using 'inbox-tui login <url>'.\n",
    )
    assert not token_file.exists()
    again = cli(env, "logout")
    assert again.returncode == 1 and again.stderr.startswith("You are not logged in.")


def test_login_with_token_flag(live_server: LiveServer, env: dict[str, str]) -> None:
    done = cli(env, "login", live_server.url, "--token", live_server.owner_token)
    assert done.returncode == 0, done.stderr
    assert cli(env, "whoami").stdout.startswith("owner (owner)")


def test_coder_cli_saved_login_is_used(live_server: LiveServer, env: dict[str, str], tmp_path: Path) -> None:
    coder = tmp_path / "coderv2"
    coder.mkdir()
    (coder / "url").write_text(live_server.url)
    (coder / "session").write_text(live_server.member_token)
    whoami = cli(env, "whoami")
    assert whoami.stdout == f"member (member) at {live_server.url} [the Coder CLI's login]\n"


def test_url_without_token_says_how_to_log_in(live_server: LiveServer, env: dict[str, str]) -> None:
    done = cli(env, "list", "--url", live_server.url)
    assert done.returncode == 1
    assert done.stderr == (
        f"no session token for {live_server.url}: run `inbox-tui login {live_server.url}`, or pass --token, "
        "or set CODER_SESSION_TOKEN\n"
    )


def test_global_flags_before_the_command(live_server: LiveServer, env: dict[str, str]) -> None:
    done = cli(env, "--url", live_server.url, "--token", live_server.member_token, "whoami")
    assert done.stdout.startswith("member (member)")


# -- the embedded default -------------------------------------------------------------------------


async def test_local_server_is_shared_with_an_open_watch_and_outlives_it(local_env: LocalEnv) -> None:
    # Nothing configured: `watch` starts (or joins) the shared local server ...
    watch = await Watch.start(local_env.env, "--json")
    try:
        await watch.stderr_until("Watching for new notifications")
        pid = local_env.server_pid()
        assert stat.S_IMODE(local_env.token_file.stat().st_mode) == 0o600
        # ... and `send` from "another terminal" reaches the same server, so the watch sees it live.
        sent = local_env.cli("send", "From another terminal", "hi")
        assert sent.returncode == 0, sent.stderr
        assert json.loads(await watch.line())["notification"]["title"] == "From another terminal"
        whoami = local_env.cli("whoami")
        socket_path = json.loads(local_env.runtime_file().read_text())["socket"]
        assert whoami.stdout.endswith(f"at unix:{socket_path} [local server]\n")
        assert await watch.interrupt() == 130
    finally:
        await watch.close()
    # The server is nobody's child: it keeps serving after the watch that started it has gone.
    assert local_env.server_pids() == [pid]
    listed = local_env.cli("list")
    assert listed.returncode == 0, listed.stderr
    assert "From another terminal" in listed.stdout


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_demo_server_is_throwaway(env: dict[str, str], tmp_path: Path) -> None:
    done = cli(env, "--demo", "whoami")
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("[demo server]\n")
    assert not (tmp_path / "data" / "inbox.db").exists()
    assert cli(env, "--demo", "--url", "http://x", "list").returncode == 1


def test_commands_do_not_import_textual(env: dict[str, str]) -> None:
    code = (
        "import sys, inbox_tui.cli, inbox_tui.api.watch, inbox_tui.api.resync, inbox_tui.embedded;"
        "sys.exit(1 if any(m == 'textual' or m.startswith('textual.') for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], env=env, timeout=60).returncode == 0


async def test_sigterm_ends_a_watch_and_leaves_the_shared_server(local_env: LocalEnv) -> None:
    watch = await Watch.start(local_env.env)
    try:
        await watch.stderr_until("Watching for new notifications")
        pid = local_env.server_pid()
        watch.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(watch.process.wait(), 30) == 143
    finally:
        await watch.close()
    assert local_env.server_pids() == [pid]
