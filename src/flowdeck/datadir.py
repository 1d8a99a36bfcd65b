"""The server's files on disk are its user's alone: data directory 0700, database and key 0600.

The data directory holds the SQLite database (every flow, run and hashed credential), the
generated JWT signing key, the first superuser's generated password and uploaded files;
other local users must read none of them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
# SQLite's rollback journal and WAL files hold the same data as the database.
_SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> None:
    """Create `path` (and its parents) or tighten it to 0700."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    tighten(path, DIR_MODE)


def write_private(path: Path, text: str) -> None:
    """Write a new file that is 0600 from its first byte (no window with wider permissions)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def kept_secret(path: Path, make: Callable[[], str]) -> tuple[str, bool]:
    """The secret stored at `path`, made (0600) when missing; whether it was made now.

    Processes starting together agree: the file is created exclusively, and the one that
    loses the race reads the winner's.
    """
    if not path.exists():
        private_dir(path.parent)
        value = make()
        try:
            write_private(path, value)
            return value, True
        except FileExistsError:
            pass
    tighten(path)
    return path.read_text().strip(), False


def private_sqlite(db_url: str) -> None:
    """Create the SQLite file of `db_url` 0600 before SQLite does (or tighten it)."""
    path = sqlite_path(db_url)
    if path is None:
        return
    if not path.parent.exists():
        private_dir(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    for companion in (path, *(path.with_name(path.name + s) for s in _SQLITE_COMPANIONS)):
        if companion.exists():
            tighten(companion, FILE_MODE)


def sqlite_path(db_url: str) -> Path | None:
    """The file of a SQLite URL; None for an in-memory database or another database."""
    if not db_url.startswith("sqlite"):
        return None
    raw = db_url.split("///", 1)[-1].split("?", 1)[0]
    if not raw or raw == ":memory:" or "mode=memory" in db_url:
        return None
    return Path(raw)


def tighten(path: Path, mode: int = FILE_MODE) -> None:
    """Set `path`'s permissions to `mode` (a warning when the server does not own it)."""
    try:
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except PermissionError:
        log.warning("cannot make %s private (mode %o): not its owner", path, mode)
