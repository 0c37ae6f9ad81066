"""What SQLite failures and file permissions mean for a store file, in words for error messages."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

_HINTS = {
    sqlite3.SQLITE_BUSY: "another connection held the write lock longer than the busy timeout; "
    "retry when it is released",
    sqlite3.SQLITE_LOCKED: "the table is locked by another statement of this connection",
    sqlite3.SQLITE_FULL: "no space left on the file system; committed data is intact, free "
    "some space and retry",
    sqlite3.SQLITE_READONLY: "the file or its folder is read-only; open the store read-only "
    "to read it",
    sqlite3.SQLITE_CANTOPEN: "check that the folder exists and is writable",
    sqlite3.SQLITE_IOERR: "the operating system reported an I/O error",
}


def hint(exc: sqlite3.Error, path: Path | None = None) -> str:
    """A parenthesised hint on what to do about ``exc`` on the file ``path`` ("" if none).

    A full file system can surface as an I/O or open error too (no room for the ``-shm`` file),
    so the free space of ``path``'s file system is checked for those.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    code = code & 0xFF if isinstance(code, int) else None
    if code in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN) and path is not None:
        try:
            if shutil.disk_usage(path.parent).free < 64 * 1024:
                code = sqlite3.SQLITE_FULL
        except OSError:
            pass
    text = _HINTS.get(code) if code is not None else None
    return f" ({text})" if text else ""


def on_read_only_fs(path: Path) -> bool:
    """Whether ``path`` (or its folder, when it does not exist) is on a read-only mount."""
    target = path if path.exists() else path.parent
    try:
        return bool(os.statvfs(target).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def not_writable(path: Path) -> str | None:
    """Why a read-write open of the existing file ``path`` cannot write it, or ``None``."""
    if on_read_only_fs(path):
        return "it is on a read-only file system"
    if not os.access(path, os.W_OK):
        return "the file is not writable"
    return None


def immutable(path: Path) -> bool:
    """Whether a read-only open must say ``immutable=1`` to read ``path`` at all.

    A WAL database needs its ``-shm`` file, which cannot be created on read-only media; a file
    there with no ``-wal`` file cannot change, so SQLite may read it without locks.
    """
    return on_read_only_fs(path) and not Path(f"{path}-wal").exists()


__all__ = ["hint", "immutable", "not_writable", "on_read_only_fs"]
