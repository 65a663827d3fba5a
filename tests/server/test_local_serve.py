"""What `serve` does for the embedded local server: the SQLite lock, the status route, a rotating log."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import httpx
import pytest

from server import serve_lock
from server.logs import PrivateRotatingFileHandler
from server.runtime_file import remove_runtime_file, write_runtime_file
from tests.live_server import LiveServer


def test_the_serve_lock_is_exclusive_and_names_its_holder(tmp_path: Path) -> None:
    db = str(tmp_path / "inbox.db")
    lock = serve_lock.acquire(db)
    try:
        lock.record("unix:/run/x.sock")
        with pytest.raises(serve_lock.DatabaseInUseError) as refused:
            serve_lock.acquire(db)
        assert str(refused.value) == (
            f"the database {db} is already served by PID {os.getpid()} at unix:/run/x.sock; a SQLite database "
            "is served by one process (use PostgreSQL for replicas)"
        )
        assert stat.S_IMODE(serve_lock.lock_path(db).stat().st_mode) == 0o600
    finally:
        lock.release()
    again = serve_lock.acquire(db)  # released: the next server takes it
    again.release()


def test_only_sqlite_files_are_locked() -> None:
    assert serve_lock.is_sqlite_path("/var/lib/inbox.db")
    assert not serve_lock.is_sqlite_path("postgresql://u@h/db")
    assert not serve_lock.is_sqlite_path("postgres://u@h/db")
    assert not serve_lock.is_sqlite_path(":memory:")


def test_the_runtime_file_is_private_and_only_its_writer_removes_it(tmp_path: Path) -> None:
    path = tmp_path / "run" / "x.json"
    old_umask = os.umask(0)
    try:
        write_runtime_file(path, {"socket": "/x.sock"})
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    path.write_text('{"pid": 1}')  # a successor's file
    remove_runtime_file(path)
    assert path.exists()
    write_runtime_file(path, {})
    remove_runtime_file(path)
    assert not path.exists()


def test_the_log_rotates_by_size_and_every_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "server.log"
    old_umask = os.umask(0)
    try:
        handler = PrivateRotatingFileHandler(path, maxBytes=200, backupCount=2, encoding="utf-8")
        logger = logging.getLogger("test.rotation")
        logger.propagate = False
        logger.addHandler(handler)
        try:
            for i in range(40):
                logger.warning("line %d %s", i, "x" * 40)
        finally:
            logger.removeHandler(handler)
            handler.close()
    finally:
        os.umask(old_umask)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["server.log", "server.log.1", "server.log.2"]
    for name in files:
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
        assert (tmp_path / name).stat().st_size <= 200 + 60


def test_the_status_route_is_for_owners(live_server: LiveServer) -> None:
    url = f"{live_server.url}/inbox-server/status"
    owner = httpx.get(url, headers={"Coder-Session-Token": live_server.owner_token})
    assert owner.status_code == 200
    data = owner.json()
    assert live_server.proc is not None and data["pid"] == live_server.proc.pid
    assert data["watchers"] == 0 and data["uptime_seconds"] >= 0
    assert isinstance(data["notifier_rounds"], int)
    # A PostgreSQL URL may carry a password: the route names the backend only.
    postgres = live_server.db_path.startswith("postgresql://")
    assert data["db"] == ("postgresql" if postgres else live_server.db_path)
    member = httpx.get(url, headers={"Coder-Session-Token": live_server.member_token})
    assert member.status_code == 403 and member.json() == {"message": "Forbidden."}
    anonymous = httpx.get(url)
    assert anonymous.status_code == 401
