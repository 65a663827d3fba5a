"""Shared fixtures: real servers on 127.0.0.1 with temporary databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_server import LiveServer
from tests.local_env import LocalEnv, make_local_env, stop_local_servers


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A fresh server and database for one test (owner + member users with tokens)."""
    server = LiveServer(tmp_path / "server").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the whole session, for tests that only read or create their own users."""
    server = LiveServer(tmp_path_factory.mktemp("shared-server")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def local_env(tmp_path: Path) -> Iterator[LocalEnv]:
    """Nothing configured: `inbox-tui` uses the shared local server, stopped by PID at teardown."""
    local = make_local_env(tmp_path)
    try:
        yield local
    finally:
        stop_local_servers(local)
        assert local.server_pids() == []
