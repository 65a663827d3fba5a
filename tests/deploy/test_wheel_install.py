"""`pip install` of the built wheel into a fresh venv gives working `inbox-server` and `inbox-tui`.

One test, marked `install`: it builds the wheel, creates a venv and installs the wheel with its
dependencies from the package index (a minute or so with a warm pip cache). It runs the installed
commands from a folder outside the checkout, so nothing is imported from the source tree.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*cmd: str | Path, cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.install
@pytest.mark.timeout(1200)
def test_wheel_installs_and_runs_in_a_fresh_venv(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"} and not k.startswith("CODER_")}
    env["INBOX_TUI_CONFIG_DIR"] = str(tmp_path / "config")
    env["INBOX_TUI_DATA_DIR"] = str(tmp_path / "data")
    env["INBOX_TUI_STATE_DIR"] = str(tmp_path / "state")
    work = tmp_path / "work"
    work.mkdir()

    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path / "dist", ROOT, cwd=work, env=env)
    (wheel,) = (tmp_path / "dist").glob("inbox_tui-*.whl")
    venv.create(tmp_path / "venv", with_pip=True)
    bin_dir = tmp_path / "venv" / "bin"
    # Its dependencies at the lock's versions, as `make` and CI install them (the ranges alone would take
    # whatever the index has newest within them).
    lock = ROOT / "constraints.txt"
    _run(bin_dir / "python", "-m", "pip", "install", "-q", "-c", lock, wheel, cwd=work, env=env)

    assert _run(bin_dir / "inbox-server", "--version", cwd=work, env=env).startswith("inbox-server ")
    assert _run(bin_dir / "inbox-tui", "--version", cwd=work, env=env).startswith("inbox-tui ")
    # The installed package is the wheel's, with its data: the stylesheet, templates and migrations.
    where = _run(bin_dir / "python", "-c", "import inbox_tui, server; print(inbox_tui.__file__, server.__file__)",
                 cwd=work, env=env)  # fmt: skip
    tui_file, server_file = (Path(p) for p in where.split())
    assert str(tmp_path / "venv") in str(tui_file) and str(tmp_path / "venv") in str(server_file)
    assert (tui_file.parent / "app.tcss").read_text() == (ROOT / "inbox_tui" / "app.tcss").read_text()

    db = tmp_path / "inbox.db"
    token = _run(bin_dir / "inbox-server", "users", "create", "--username", "ops", "--role", "owner", "--db", db,
                 cwd=work, env=env).strip()  # fmt: skip
    server = subprocess.Popen(
        [str(bin_dir / "inbox-server"), "serve", "--port", "0", "--db", str(db)],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        url = ""
        deadline = time.monotonic() + 60
        while not url and time.monotonic() < deadline and server.poll() is None:
            if select.select([server.stdout], [], [], 0.2)[0]:
                line = server.stdout.readline()
                if line.startswith("listening on "):
                    url = line.split()[2]
        assert url, "the installed server never printed its URL"
        response = httpx.get(f"{url}/api/v2/notifications/templates/system", headers={"Coder-Session-Token": token})
        assert response.status_code == 200
        bundled = json.loads((ROOT / "server" / "data" / "notification-templates.json").read_text())
        assert [t["id"] for t in response.json()] == [t["id"] for t in bundled["system"]]  # loaded from the wheel
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        if server.stdout is not None:
            server.stdout.close()
