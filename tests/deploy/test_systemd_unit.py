"""docs/deploy/inbox-server.service passes `systemd-analyze verify`."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.tools import require_tool

UNIT = Path(__file__).resolve().parents[2] / "docs" / "deploy" / "inbox-server.service"
EXEC = "/opt/inbox-server/bin/inbox-server"


def _verify(tool: Path, unit_text: str, folder: Path) -> subprocess.CompletedProcess[str]:
    # verify also checks that ExecStart's program exists: point it at a stand-in for the installed one.
    stand_in = folder / "inbox-server"
    stand_in.write_text("#!/bin/sh\nexit 0\n")
    stand_in.chmod(0o755)
    unit = folder / "inbox-server.service"
    unit.write_text(unit_text.replace(EXEC, str(stand_in)))
    return subprocess.run([str(tool), "verify", str(unit)], capture_output=True, text=True, timeout=120)


def test_unit_file_verifies(tmp_path: Path) -> None:
    tool = require_tool("systemd-analyze", "systemd")
    text = UNIT.read_text()
    assert f"ExecStart={EXEC} serve" in text and "EnvironmentFile=/etc/inbox-server/inbox-server.env" in text
    done = _verify(tool, text, tmp_path)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    # The tool does judge: a broken line is reported (as a warning, which the check above forbids).
    broken = _verify(tool, text.replace("Type=exec", "Type=exec\nRestart=sometimes"), tmp_path)
    assert "sometimes" in broken.stderr
