"""How long an open inbox takes to be live again after `kill -9` of its shared local server (median of 10).

An `inbox-tui` runs on a pseudo-terminal against the local server, as in a tmux pane. Each round kills
the server with SIGKILL and times until the *new* server has the inbox's watch connected again (its
status route reports one watcher), that is until the pane is live. Rounds are 11 s apart, so each
kill finds a connection that had been healthy (a crash loop backs off further, by design). The floor,
measured in the same run:
starting a bare `inbox-server serve` on the same database and waiting until it answers, which no restart
can beat. Run: `.venv/bin/python -m benchmarks.local_restart`.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.harness import update_readme
from benchmarks.tui_pty import PtyApp
from inbox_tui.api.watch import HEALTHY_AFTER

ROUNDS = 10


def watchers(socket: str, token: str) -> int:
    """The local server's connected watchers, or -1 when it does not answer."""
    try:
        with httpx.Client(transport=httpx.HTTPTransport(uds=socket), base_url="http://localhost", timeout=0.5) as c:
            response = c.get("/inbox-server/status", headers={"Coder-Session-Token": token})
        return int(response.json()["watchers"]) if response.status_code == 200 else -1
    except (httpx.HTTPError, ValueError, KeyError):
        return -1


def runtime(run_dir: Path) -> dict[str, object]:
    return dict(json.loads(next(run_dir.glob("*.json")).read_text()))


def floor(env: dict[str, str], db: Path, run_dir: Path) -> float:
    """A bare server start on the same database, until it answers (the inbox's server is stopped first)."""
    socket = str(run_dir / "floor.sock")
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--db", str(db), "--unix-socket", socket],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                with httpx.Client(transport=httpx.HTTPTransport(uds=socket), timeout=0.5) as c:
                    if c.get("http://localhost/api/v2/buildinfo").status_code == 200:
                        return time.monotonic() - started
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise RuntimeError("the bare server exited")
            time.sleep(0.005)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="bench-restart-"))
    run_dir = Path(tempfile.mkdtemp(prefix="br-")) / "run"
    env = {k: v for k, v in os.environ.items() if k not in ("CODER_URL", "CODER_SESSION_TOKEN", "INBOX_DB")}
    env.update(
        {
            "INBOX_TUI_CONFIG_DIR": str(root / "config"),
            "INBOX_TUI_DATA_DIR": str(root / "data"),
            "INBOX_TUI_STATE_DIR": str(root / "state"),
            "INBOX_TUI_RUNTIME_DIR": str(run_dir),
            "INBOX_TUI_SERVER_IDLE_TIMEOUT": "120",
        }
    )
    subprocess.run([sys.executable, "-m", "inbox_tui.cli", "server", "start"], env=env, check=True)
    token = (root / "data" / "token").read_text().strip()
    app = PtyApp([sys.executable, "-m", "inbox_tui.cli"], cols=100, rows=30, env=env).start()
    restarts: list[float] = []
    try:
        info = runtime(run_dir)
        socket = str(info["socket"])
        deadline = time.monotonic() + 60
        while watchers(socket, token) != 1:
            if time.monotonic() > deadline:
                raise RuntimeError("the inbox never connected")
            time.sleep(0.05)
        for _ in range(ROUNDS):
            old = int(str(runtime(run_dir)["pid"]))
            killed = time.monotonic()
            os.kill(old, signal.SIGKILL)
            while True:
                try:
                    pid = int(str(runtime(run_dir)["pid"]))
                except (StopIteration, ValueError):
                    pid = old
                if pid != old and watchers(socket, token) == 1:
                    restarts.append(time.monotonic() - killed)
                    break
                if time.monotonic() - killed > 60:
                    raise RuntimeError("the inbox did not come back within 60 s")
                time.sleep(0.01)
            # A connection must stay up HEALTHY_AFTER (10 s) before the watch's backoff starts over: each
            # round measures one kill of a server that had been up, not a crash loop.
            time.sleep(HEALTHY_AFTER + 1)
    finally:
        app.stop()
        subprocess.run([sys.executable, "-m", "inbox_tui.cli", "server", "stop"], env=env, capture_output=True)
    floors = [floor(env, root / "data" / "inbox.db", run_dir) for _ in range(3)]
    median = statistics.median(restarts)
    text = (
        "| after `kill -9` of the local server | median of 10 | min | max | floor: bare `serve` start, median of 3 |\n"
        "|---|---|---|---|---|\n"
        f"| open inbox live again (watch reconnected to the new server) | **{median:.2f} s** | "
        f"{min(restarts):.2f} s | {max(restarts):.2f} s | {statistics.median(floors):.2f} s |"
    )
    print(text)
    update_readme("local_restart", text + "\n\n`.venv/bin/python -m benchmarks.local_restart`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
