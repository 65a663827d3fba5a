"""Files the server writes are private: databases (with their -wal/-shm) and logs 0600, directories 0700.

The database holds every notification and the token hashes, so nothing we create may be readable by
other users, whatever the umask. Files and directories that already exist and are owned by us are
tightened with a warning (they were created by an older version, or by hand).
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from pathlib import Path
from typing import Final

log = logging.getLogger(__name__)

FILE_MODE: Final = 0o600
DIR_MODE: Final = 0o700
SQLITE_SIDE_FILES: Final = ("-wal", "-shm", "-journal")


def ensure_private_dir(path: Path) -> None:
    """Create `path` and any missing parents with mode 0700 (umask ignored); existing ones are left alone."""
    if path.exists() and not path.is_dir():
        raise FileExistsError(errno.EEXIST, "File exists", str(path))  # as mkdir(exist_ok=True) says
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # made meanwhile by someone else: not ours to change
        os.chmod(directory, DIR_MODE)  # mkdir's mode is filtered by the umask


def tighten(path: Path, mode: int) -> bool:
    """Remove permission bits beyond `mode` from a file or directory we own; True if it was changed.

    A path owned by someone else, or missing, is left alone. The change is logged at warning level.
    """
    try:
        info = path.lstat()
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.geteuid():
        return False
    current = stat.S_IMODE(info.st_mode)
    if current & ~mode == 0:
        return False
    os.chmod(path, current & mode)
    log.warning("%s was readable by others (mode %04o): changed it to %04o", path, current, current & mode)
    return True


def create_private_file(path: Path) -> bool:
    """Create an empty file with mode 0600 if it does not exist (umask ignored); True if it was created.

    An existing file we own is tightened to 0600 instead, with a warning.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    except FileExistsError:
        tighten(path, FILE_MODE)
        return False
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return True


def prepare_sqlite_file(path: Path) -> bool:
    """Make a SQLite database path private before SQLite opens it; True if the database is new.

    A new database file is created empty with mode 0600 (SQLite gives its -wal and -shm files the mode
    of the database file); missing directories are created 0700. An existing database and its side files
    are tightened to 0600 with a warning.
    """
    ensure_private_dir(path.parent)
    created = create_private_file(path)
    for suffix in SQLITE_SIDE_FILES:
        tighten(path.with_name(path.name + suffix), FILE_MODE)
    # An empty file is a new database to SQLite too (e.g. one left by a start that failed).
    return created or path.stat().st_size == 0
