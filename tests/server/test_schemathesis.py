"""schemathesis against Coder's (patched) swagger for every REST path, as an owner and as a member."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.live_server import LiveServer

DATA = Path(__file__).parents[1] / "data"
SWAGGER = DATA / "coder-notifications.swagger.json"
CONFIG = DATA / "schemathesis.toml"


@pytest.mark.parametrize("who", ["owner", "member"])
def test_schemathesis(live_server: LiveServer, who: str, tmp_path: Path) -> None:
    token = live_server.owner_token if who == "owner" else live_server.member_token
    cmd = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "run",
        str(SWAGGER),
        "--url",
        live_server.url,
        "--header",
        f"Coder-Session-Token: {token}",
        # The watch endpoint is a websocket upgrade (tested in test_watch.py), not a REST response.
        "--exclude-path",
        "/api/v2/notifications/inbox/watch",
        "--max-examples",
        "40",
        "--seed",
        "1",
        "--workers",
        "2",
        "--report-dir",
        str(tmp_path),
        "--no-color",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-2000:]
