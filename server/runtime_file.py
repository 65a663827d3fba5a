"""The runtime file of a local server: where clients find it (address, PID, database, log).

Written by `serve --runtime-file PATH` once the server answers, and removed on a clean exit if it still
names this process. Clients never trust it alone: they check the PID and that the address answers.
Written atomically (temporary file + rename) with mode 0600, since it sits beside the user's data.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from server.private_files import ensure_private_dir


def write_runtime_file(path: Path, info: dict[str, Any]) -> None:
    """Publish `info` (plus pid and started_at) at `path`, atomically, mode 0600."""
    data = {"pid": os.getpid(), "started_at": time.time(), **info}
    ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=".runtime-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
            out.write("\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def remove_runtime_file(path: Path) -> None:
    """Remove the runtime file if it still names this process (a successor may have replaced it)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(data, dict) and data.get("pid") == os.getpid():
        with contextlib.suppress(OSError):
            path.unlink()
