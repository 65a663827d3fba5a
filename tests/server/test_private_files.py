"""Issue 12 section 4: the database (with -wal/-shm) is 0600 and directories we make are 0700, whatever the
umask, for databases made by `serve` and by the admin commands; existing ones are tightened with a warning."""

from __future__ import annotations

import os
import select
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

UMASKS = [pytest.param(0o000, id="umask000"), pytest.param(0o022, id="umask022")]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def cli(umask: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, timeout=60, umask=umask
    )


@contextmanager
def serving(db: Path, umask: int, log: Path) -> Iterator[subprocess.Popen[str]]:
    """A real `serve` on the database, started under `umask`, until it listens; stopped by PID."""
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", "0", "--db", str(db), "--log-level", "info"],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            umask=umask,
        )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            if select.select([proc.stdout], [], [], 0.1)[0] and proc.stdout.readline().startswith("listening on"):
                break
        else:
            raise AssertionError(f"server did not start: {log.read_text()}")
        yield proc
    finally:
        proc.terminate()
        proc.wait(15)
        if proc.stdout:
            proc.stdout.close()


@pytest.mark.parametrize("umask", UMASKS)
def test_serve_creates_a_private_database(tmp_path: Path, umask: int) -> None:
    db = tmp_path / "new" / "nested" / "inbox.db"
    log = tmp_path / "serve.log"
    with serving(db, umask, log):
        assert mode(db) == 0o600
        # WAL mode: both side files exist while the server runs, with the database file's mode.
        assert mode(db.with_name("inbox.db-wal")) == 0o600
        assert mode(db.with_name("inbox.db-shm")) == 0o600
        assert mode(db.parent) == 0o700
        assert mode(db.parent.parent) == 0o700
    # A new database made by `serve` is said at warning level, with its path (issue 12 section 5).
    warnings = [line for line in log.read_text().splitlines() if "[warn]" in line and str(db) in line]
    assert warnings, log.read_text()


@pytest.mark.parametrize("umask", UMASKS)
def test_admin_commands_create_a_private_database(tmp_path: Path, umask: int) -> None:
    db = tmp_path / "made-by-cli" / "inbox.db"
    done = cli(umask, "users", "create", "--username", "alice", "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert mode(db) == 0o600
    assert mode(db.parent) == 0o700
    for command in (["tokens", "create", "--user", "alice"], ["users", "list"]):
        assert cli(umask, *command, "--db", str(db)).returncode == 0
        assert mode(db) == 0o600


def test_existing_database_files_are_tightened_with_a_warning(tmp_path: Path) -> None:
    db = tmp_path / "inbox.db"
    assert cli(0o022, "users", "create", "--username", "alice", "--db", str(db)).returncode == 0
    os.chmod(db, 0o644)  # as older versions left it
    wal = db.with_name("inbox.db-wal")
    wal.write_bytes(b"")
    os.chmod(wal, 0o666)
    done = cli(0o022, "users", "list", "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert mode(db) == 0o600
    assert not wal.exists() or mode(wal) == 0o600
    assert "WARNING" in done.stderr and str(db) in done.stderr
    # Already private: nothing to say.
    again = cli(0o022, "users", "list", "--db", str(db))
    assert "WARNING" not in again.stderr


def test_a_directory_that_exists_is_not_ours_to_change(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    assert cli(0o022, "users", "create", "--username", "bob", "--db", str(shared / "x.db")).returncode == 0
    assert mode(shared) == 0o755
    assert mode(shared / "x.db") == 0o600
