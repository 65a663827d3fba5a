"""Finding the system tools a test drives (openssl, tmux, nginx, ...): skipped on a developer machine, a failure
on CI (`CI=true`), where `.ci/run` installs them, so a missing install step cannot pass as a skip."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.pg import on_ci


def require_tool(name: str, package: str) -> Path:
    """The path of `name` (also looked for in /usr/sbin); skip without it, or fail when CI=true."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        reason = f"{name} is not installed (apt-get install {package})"
        if on_ci():
            pytest.fail(f"{reason}: .ci/run must install it", pytrace=False)
        pytest.skip(reason)
    return Path(found)
