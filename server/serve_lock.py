"""One serving process per SQLite database: an advisory lock held for the server's whole life.

SQLite is a one-server database here (replicas are what PostgreSQL is for): two `serve` processes on one
file would each fan out only what they delivered themselves. `serve` takes an exclusive `flock` on
`<database>.lock` before it opens the store and keeps the descriptor open until it exits, so the kernel
releases the lock even after `kill -9`. The file holds the holder's PID and address, so a second `serve`
can say who has it. The admin commands (`users`, `tokens`, `notify`) never take it: they work beside a
running server.

Clients of the embedded default use the same file to tell "no server" from "a server that is slow to
answer" without starting a twin (see `inbox_tui/local_server.py`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

from server.private_files import ensure_private_dir

LOCK_SUFFIX = ".lock"


class DatabaseInUseError(Exception):
    """Another process serves this database; `holder` is what its lock file says (PID and address)."""

    def __init__(self, db: str, holder: str) -> None:
        self.db = db
        self.holder = holder
        pid, _, address = holder.partition(" ")
        who = f"PID {pid}" if pid.isdigit() else "another process"
        if address:
            who += f" at {address}"
        super().__init__(
            f"the database {db} is already served by {who}; a SQLite database is served by one process "
            "(use PostgreSQL for replicas)"
        )


def is_sqlite_path(db: str) -> bool:
    """True when `db` names a SQLite file (not a PostgreSQL URL, not an in-memory database)."""
    return not db.startswith(("postgres://", "postgresql://")) and db not in ("", ":memory:")


def lock_path(db: str) -> Path:
    """The lock file beside a SQLite database."""
    return Path(db + LOCK_SUFFIX)


@dataclass(slots=True)
class ServeLock:
    """The held lock: keep it for the life of the process; `release()` on a clean exit."""

    path: Path
    fd: int

    def record(self, address: str) -> None:
        """Write `<pid> <address>` into the lock file (for the next `serve`'s error message)."""
        text = f"{os.getpid()} {address}\n".encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, text, 0)

    def release(self) -> None:
        """Unlock and close (the file stays: removing it would race with the next holder)."""
        with contextlib.suppress(OSError):
            os.ftruncate(self.fd, 0)
        with contextlib.suppress(OSError):
            os.close(self.fd)


def acquire(db: str) -> ServeLock:
    """Take the serve lock of a SQLite database, or raise DatabaseInUseError naming the holder."""
    path = lock_path(db)
    ensure_private_dir(path.parent)  # created before the store makes it: 0700 too
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = read_holder(path)
        os.close(fd)
        raise DatabaseInUseError(db, holder) from None
    except BaseException:
        os.close(fd)
        raise
    lock = ServeLock(path=path, fd=fd)
    lock.record("")
    return lock


def read_holder(path: Path) -> str:
    """What the lock file says about its holder (`<pid> <address>`), or "" when unreadable."""
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()[:200]
    except OSError:
        return ""
