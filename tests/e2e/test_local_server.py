"""The shared local server as people live with it: several clients, kill -9, kill -STOP, idle, stale files.

Real processes only: `inbox-tui` commands run as subprocesses with nothing configured, and start (or
join) one detached `inbox-server` per database. Every server is stopped by PID at teardown.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

from inbox_tui.local_server import probe
from tests.local_env import LocalEnv, kill_pid, wait_until

RESTART_WITHIN = 5.0  # the promise: live again within 5 s of a kill -9


class Lines:
    """The lines a process writes to one of its pipes, read by a thread (for tests that wait on output)."""

    def __init__(self, stream: object) -> None:
        self.queue: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        thread.start()

    def _pump(self, stream: object) -> None:
        try:
            for line in stream:  # type: ignore[attr-defined]
                self.queue.put(line)
        except ValueError:  # `stop` closed the pipe (the process is gone): nothing more to read
            pass

    def until(self, needle: str, timeout: float = 30.0) -> str:
        """The first line (from now on, or already seen and unconsumed) containing `needle`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line with {needle!r} within {timeout} s; saw {self.seen!r}")
            try:
                line = self.queue.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(line)
            if needle in line:
                return line


def stop(process: subprocess.Popen[str]) -> None:
    """Interrupt a client as ctrl+c would, then make sure it is gone (by PID)."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
    # Its pipes too (warnings are errors: an unclosed one would fail the test when collected).
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def send(local: LocalEnv, title: str, message: str = "body", **env: str) -> subprocess.CompletedProcess[str]:
    done = local.cli("send", title, message, **env)
    assert done.returncode == 0, done.stderr
    return done


def listed_titles(local: LocalEnv) -> list[str]:
    done = local.cli("list", "--json")
    assert done.returncode == 0, done.stderr
    return [n["title"] for n in json.loads(done.stdout)["notifications"]]


# -- start on demand, detached, one per database ---------------------------------------------------


def test_first_command_starts_a_detached_server_that_the_next_one_shares(local_env: LocalEnv) -> None:
    send(local_env, "first")
    pid = local_env.server_pid()
    # Its own session and process group: closing the terminal (or the client) does not take it down.
    assert os.getsid(pid) == pid != os.getsid(0)
    assert os.getpgid(pid) == pid
    runtime = json.loads(local_env.runtime_file().read_text())
    assert runtime["pid"] == pid and runtime["db"] == str(local_env.db)
    socket_path = Path(runtime["socket"])
    assert socket_path.parent == local_env.runtime
    assert stat.S_ISSOCK(socket_path.stat().st_mode)
    assert stat.S_IMODE(socket_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(local_env.runtime.stat().st_mode) == 0o700
    assert stat.S_IMODE(local_env.runtime_file().stat().st_mode) == 0o600
    assert stat.S_IMODE(local_env.token_file.stat().st_mode) == 0o600
    # The sender exited; the server did not, and the next command uses it.
    send(local_env, "second")
    assert local_env.server_pids() == [pid]
    assert listed_titles(local_env) == ["second", "first"]
    whoami = local_env.cli("whoami")
    assert whoami.stdout.rstrip().endswith(f"at unix:{socket_path} [local server]")


def test_a_start_race_ends_with_one_server_used_by_all(local_env: LocalEnv) -> None:
    # Create the local owner first, so the race is only about the server.
    local_env.cli("server", "start")
    stopped = local_env.cli("server", "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert wait_until(lambda: local_env.server_pids() == [])
    racers = [local_env.popen("send", f"racer {i}", "x") for i in range(4)]
    started: set[int] = set()  # every server process a racer started
    published: set[int] = set()  # every server that got as far as answering (its runtime file)
    while any(r.poll() is None for r in racers):
        started.update(local_env.server_pids())
        runtime = sorted(local_env.runtime.glob("*.json"))
        if runtime:
            published.add(json.loads(runtime[0].read_text())["pid"])
        time.sleep(0.01)
    for racer in racers:
        _, err = racer.communicate(timeout=60)
        assert racer.returncode == 0, err
    winner = local_env.server_pid()
    # Racers may each start a server, but only the one that won the lock ever served; the rest exited.
    assert published == {winner}
    assert wait_until(lambda: all(not Path(f"/proc/{p}").exists() for p in started - {winner}), timeout=10)
    assert sorted(listed_titles(local_env)) == [f"racer {i}" for i in range(4)]
    assert local_env.server_pids() == [winner]


def test_second_serve_on_the_same_sqlite_database_refuses(local_env: LocalEnv) -> None:
    send(local_env, "held")
    pid = local_env.server_pid()
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--port", "0", "--db", str(local_env.db)],
        env=local_env.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert f"already served by PID {pid}" in done.stderr and "PostgreSQL" in done.stderr
    # The admin commands keep working beside it.
    users = subprocess.run(
        [sys.executable, "-m", "server.cli", "users", "list", "--db", str(local_env.db)],
        env=local_env.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert users.returncode == 0 and users.stdout.count("\n") == 1


# -- killed, stopped, stale ---------------------------------------------------------------------------


def test_a_watch_is_live_again_after_kill_9_of_its_server_and_misses_nothing(local_env: LocalEnv) -> None:
    watch = local_env.popen("watch")
    try:
        err = Lines(watch.stderr)
        out = Lines(watch.stdout)
        err.until("Watching for new notifications")
        send(local_env, "before the kill")
        out.until("before the kill")
        os.kill(local_env.server_pid(), signal.SIGKILL)
        # Sent while the watch's server is gone: `send` starts the server again itself.
        killed_at = time.monotonic()
        send(local_env, "while it was down")
        out.until("while it was down", timeout=RESTART_WITHIN + 10)
        send(local_env, "after the restart")
        out.until("after the restart")
        assert time.monotonic() - killed_at < RESTART_WITHIN + 10
        assert len(local_env.server_pids()) == 1
    finally:
        stop(watch)


def test_a_watch_restarts_a_server_that_was_killed_while_nobody_sent(local_env: LocalEnv) -> None:
    watch = local_env.popen("watch")
    try:
        err = Lines(watch.stderr)
        out = Lines(watch.stdout)
        err.until("Watching for new notifications")
        old = local_env.server_pid()
        os.kill(old, signal.SIGKILL)
        err.until("Reconnected.", timeout=RESTART_WITHIN)
        new = local_env.server_pid()
        assert new != old
        send(local_env, "to the restarted server")
        out.until("to the restarted server")
    finally:
        stop(watch)


def test_a_stopped_server_gets_no_twin_and_the_send_goes_through_once_it_resumes(local_env: LocalEnv) -> None:
    send(local_env, "wakes it")
    pid = local_env.server_pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        sender = local_env.popen("send", "during the stop", "x")
        stopped_until = time.monotonic() + 3.0
        while time.monotonic() < stopped_until:
            assert local_env.server_pids() == [pid]  # never a second server on the database
            assert sender.poll() is None
            time.sleep(0.05)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert sender.wait(timeout=60) == 0
    _, err = sender.communicate()
    assert "is not answering" in err and f"PID {pid}" in err
    assert local_env.server_pids() == [pid]
    assert listed_titles(local_env)[0] == "during the stop"


def test_a_server_stopped_past_the_timeout_is_reported_clearly(local_env: LocalEnv) -> None:
    send(local_env, "wakes it")
    pid = local_env.server_pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        done = local_env.cli("send", "never", "x", INBOX_TUI_SERVER_TIMEOUT="2")
    finally:
        os.kill(pid, signal.SIGCONT)
    assert done.returncode == 1
    assert f"the local server (PID {pid}) did not answer within 2 s; is it stopped?" in done.stderr
    assert local_env.server_pids() == [pid]
    assert "never" not in listed_titles(local_env)


def test_a_stale_runtime_file_with_a_dead_pid_is_replaced(local_env: LocalEnv) -> None:
    send(local_env, "first")
    old = local_env.server_pid()
    runtime = local_env.runtime_file()
    kill_pid(old)
    # kill -9 leaves the runtime file and the socket behind, naming a dead PID.
    assert json.loads(runtime.read_text())["pid"] == old
    send(local_env, "second")
    new = local_env.server_pid()
    assert new != old and json.loads(runtime.read_text())["pid"] == new


def test_a_runtime_file_naming_a_live_stranger_is_not_trusted(local_env: LocalEnv) -> None:
    send(local_env, "first")
    old = local_env.server_pid()
    runtime = local_env.runtime_file()
    data = json.loads(runtime.read_text())
    kill_pid(old)
    # The PID was reused by an unrelated process (this test), and the socket is a dead one.
    runtime.write_text(json.dumps({**data, "pid": os.getpid()}))
    send(local_env, "second")
    assert json.loads(runtime.read_text())["pid"] == local_env.server_pid() != os.getpid()
    assert listed_titles(local_env) == ["second", "first"]


# -- idle stop, and the server commands ----------------------------------------------------------------


def test_the_server_stops_after_the_idle_period_with_no_client(local_env: LocalEnv) -> None:
    send(local_env, "hello", INBOX_TUI_SERVER_IDLE_TIMEOUT="1")
    pid = local_env.server_pid()
    runtime = local_env.runtime_file()
    socket_path = json.loads(runtime.read_text())["socket"]
    assert wait_until(lambda: local_env.server_pids() == [], timeout=20)
    assert not Path(f"/proc/{pid}").exists() or local_env.server_pids() == []
    assert not runtime.exists() and not Path(socket_path).exists()
    assert "no client for 1 s: stopping" in local_env.log.read_text()


def test_a_connected_watch_keeps_the_server_from_idling_out(local_env: LocalEnv) -> None:
    watch = local_env.popen("watch", INBOX_TUI_SERVER_IDLE_TIMEOUT="1")
    try:
        Lines(watch.stderr).until("Watching for new notifications")
        pid = local_env.server_pid()
        time.sleep(3.0)  # three idle periods: the open watch keeps it
        assert local_env.server_pids() == [pid]
    finally:
        stop(watch)
    assert wait_until(lambda: local_env.server_pids() == [], timeout=20)


def test_server_status_stop_and_logs(local_env: LocalEnv) -> None:
    none = local_env.cli("server", "status")
    assert none.returncode == 1 and "No local server is running" in none.stderr
    started = local_env.cli("server", "start")
    assert started.returncode == 0, started.stderr
    pid = local_env.server_pid()
    watch = local_env.popen("watch")
    try:
        Lines(watch.stderr).until("Watching for new notifications")
        status = local_env.cli("server", "status")
        assert status.returncode == 0, status.stderr
        fields = dict(line.split(":", 1) for line in status.stdout.splitlines())
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        assert fields["pid"] == str(pid)
        assert fields["database"] == str(local_env.db)
        assert fields["address"].startswith(f"unix:{local_env.runtime}/")
        assert fields["watchers"] == "1"
        assert fields["idle stop"] == "after 1m 00s with no client"
        assert fields["log"] == str(local_env.log)
        assert fields["uptime"].endswith("s")
    finally:
        stop(watch)
    logs = local_env.cli("server", "logs")
    assert logs.stdout.strip() == str(local_env.log)
    stopped = local_env.cli("server", "stop")
    assert stopped.returncode == 0 and f"(PID {pid}) stopped" in stopped.stderr
    assert local_env.server_pids() == []
    again = local_env.cli("server", "stop")
    assert again.returncode == 1 and "No local server is running" in again.stderr


def test_a_missing_database_beside_its_token_is_an_error_not_a_fresh_start(local_env: LocalEnv) -> None:
    send(local_env, "precious")
    kill_pid(local_env.server_pid())
    for suffix in ("", "-wal", "-shm"):
        Path(str(local_env.db) + suffix).unlink(missing_ok=True)
    done = local_env.cli("list")
    assert done.returncode == 1
    assert f"the inbox database {local_env.db} is missing" in done.stderr
    assert f"start afresh by removing {local_env.token_file}" in done.stderr
    assert not local_env.db.exists()
    assert local_env.server_pids() == []


def test_inbox_server_notify_with_no_db_reaches_the_same_inbox(local_env: LocalEnv) -> None:
    send(local_env, "creates the owner")
    whoami = local_env.cli("whoami").stdout.split()[0]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "server.cli",
            "notify",
            "--user",
            whoami,
            "--template",
            "Troubleshooting Notification",
        ],
        env=local_env.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # The running server's notifier delivers it within its sweep.
    assert wait_until(lambda: "A test notification" in listed_titles(local_env), timeout=30)


def test_notify_names_the_way_to_create_the_local_owner(local_env: LocalEnv) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "server.cli",
            "notify",
            "--user",
            "nobody",
            "--template",
            "Troubleshooting Notification",
        ],
        env=local_env.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "no user 'nobody'" in done.stderr


def test_server_logs_follow_prints_the_log_safely(local_env: LocalEnv) -> None:
    send(local_env, "starts it")
    with local_env.log.open("a") as log:
        log.write("injected \x1b]52;c;aGk=\x07 line\n")
    follower = local_env.popen("server", "logs", "--follow")
    try:
        lines = Lines(follower.stdout)
        assert "injected" in lines.until("injected") and "\x1b" not in "".join(lines.seen)
        send(local_env, "more")  # the server logs nothing at info per request; write a line ourselves
        with local_env.log.open("a") as log:
            log.write("appended later\n")
        lines.until("appended later")
    finally:
        stop(follower)
    assert follower.returncode == 0


def test_a_refused_local_token_is_reissued(local_env: LocalEnv) -> None:
    send(local_env, "first")
    old = local_env.token_file.read_text().strip()
    # Revoked (or expired: tokens from before expiry existed got 30 days at the upgrade).
    revoked = subprocess.run(
        [sys.executable, "-m", "server.cli", "tokens", "revoke", old, "--db", str(local_env.db)],
        env=local_env.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert revoked.returncode == 0, revoked.stderr
    # The server caches sessions for a second: wait until it refuses the old token.
    socket_path = json.loads(local_env.runtime_file().read_text())["socket"]
    assert wait_until(lambda: probe(socket_path, old) == 401, timeout=10)
    send(local_env, "second")
    new = local_env.token_file.read_text().strip()
    assert new != old
    assert stat.S_IMODE(local_env.token_file.stat().st_mode) == 0o600
    assert listed_titles(local_env) == ["second", "first"]
