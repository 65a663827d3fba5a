"""Our directories are 0700 and our files 0600, whatever the umask (no Textual here).

The data dir holds the embedded server's database (every notification, the token hashes), the config dir
a session token, the state dir the server log: nothing there is for other users. Directories we create
are made 0700; ones that already exist (an older version made them 0755) are tightened on start with a
warning, together with the files directly inside them.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Final

log = logging.getLogger(__name__)

FILE_MODE: Final = 0o600
DIR_MODE: Final = 0o700


def ensure_private_dir(path: Path) -> Path:
    """Create `path` and missing parents with mode 0700 (umask ignored); existing ones are left alone."""
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
            continue  # made meanwhile by another process: not ours to change
        os.chmod(directory, DIR_MODE)  # mkdir's mode is filtered by the umask
    return path


def tighten(path: Path, mode: int) -> bool:
    """Remove permission bits beyond `mode` from a path we own, with a warning; True if it changed."""
    try:
        info = path.lstat()
    except (FileNotFoundError, NotADirectoryError):
        return False
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.geteuid():
        return False
    current = stat.S_IMODE(info.st_mode)
    if current & ~mode == 0:
        return False
    os.chmod(path, current & mode)
    log.warning("%s was open to other users (mode %04o): changed it to %04o", path, current, current & mode)
    return True


def tighten_tree(directories: Iterable[Path]) -> None:
    """Tighten existing directories to 0700 and the regular files directly inside them to 0600."""
    for directory in directories:
        if not tighten(directory, DIR_MODE) and not directory.is_dir():
            continue
        try:
            entries = list(directory.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.is_file() and not entry.is_symlink():
                tighten(entry, FILE_MODE)


def open_private(path: Path, mode: str = "ab") -> IO[bytes]:
    """Open a binary file for writing, created 0600 in a 0700 directory (an existing one is tightened)."""
    ensure_private_dir(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) & ~FILE_MODE:
            tighten(path, FILE_MODE)
        return os.fdopen(fd, mode)
    except BaseException:
        os.close(fd)
        raise
