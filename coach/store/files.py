"""The history's files on disk: where they live, who may read them, what is refused.

Everything here runs before SQLite opens the file or around it: the 0600/0700 permissions
(with a clear message when a ``sudo coach`` left a file owned by root), the header check that
refuses a file that is not SQLite or that lost its content, the private pre-creation that makes
SQLite's ``-wal`` and ``-shm`` inherit mode 0600, the copy of a recording into the recordings
folder, and the translation of SQLite's errors into a :class:`StoreError` with a fix.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Final

from coach import paths
from coach.errors import StoreError

DB_NAME: Final = "history.sqlite3"
RECORDINGS: Final = "recordings"
SQLITE_HEADER: Final = b"SQLite format 3\x00"
# The database's companions: made private with it and deleted with it.
_SUFFIXES: Final = ("-wal", "-shm", "-journal")


def default_path() -> Path:
    """Where the history lives unless told otherwise."""
    return paths.data_dir() / DB_NAME


def _is_within(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _chmod(path: Path, mode: int) -> None:
    try:
        if (path.stat().st_mode & 0o777) != mode:
            os.chmod(path, mode)
    except FileNotFoundError:
        pass
    except OSError as exc:  # owned by another user (one `sudo coach`), or a read-only disk
        owner = paths.foreign_owner(path)
        if owner is not None:
            raise StoreError(
                f"cannot make {path} private: it belongs to {owner}, not to you "
                "(as after running the coach once with sudo)",
                f"give it back: sudo chown -R {paths.current_user()} {path.parent}",
            ) from None
        raise StoreError(
            f"cannot make {path} private: {exc.strerror or exc}", "check its permissions"
        ) from None


def _check_header(db: Path) -> None:
    """Refuse a file that is not SQLite before SQLite gets a chance to touch it."""
    try:
        with db.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(
            f"cannot read the history database {db}: {exc.strerror or exc}",
            "check the file's permissions",
        ) from exc
    if not head and not _has_content(db.with_name(db.name + "-wal")) and not _just_made(db):
        # SQLite would silently start a new, empty history in it. A 0-byte file is a history
        # lost (a full disk, a copy cut short), or one that was never written: say so.
        raise StoreError(
            f"the history database {db} is empty (0 bytes): the saved history is not in it",
            "put back a copy if you have one; otherwise delete the empty file to start a new "
            "history (the coach does not replace it)",
        )
    if head and head != SQLITE_HEADER:
        raise StoreError(
            f"{db} is not a SQLite database (corrupt or replaced)",
            "move it aside to start a new history; the coach never overwrites it",
        )


def _just_made(db: Path) -> bool:
    """A 0-byte file this recent is a new history another coach process is creating now."""
    try:
        return time.time() - db.stat().st_mtime < NEW_FILE_GRACE_S
    except OSError:
        return False


#: See :func:`_just_made`; creating the schema takes milliseconds.
NEW_FILE_GRACE_S = 30.0


def _has_content(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def _precreate_private(db: Path) -> None:
    """Create a new database file as 0600 so SQLite's -wal and -shm inherit the mode."""
    if db.exists():
        _chmod(db, 0o600)
        return
    try:
        fd = os.open(db, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
    except FileExistsError:
        pass
    except OSError as exc:
        raise StoreError(
            f"cannot create the history database {db}: {exc.strerror or exc}",
            "check that the data dir is writable (or set COACH_DATA_DIR)",
        ) from exc


def _copy_private(source: Path, target: Path) -> None:
    """Copy a recording to a new 0600 file and fsync it (the row is committed after this).

    A failure removes the partial copy and raises :class:`StoreError`; the source is untouched.
    """
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise StoreError(
            f"cannot copy the recording into {target.parent}: {exc.strerror or exc}",
            "free some disk space or check the data dir's permissions",
        ) from exc


def _translate(exc: sqlite3.Error, db: Path) -> StoreError:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return StoreError(
            f"the history database {db} is locked by another program",
            "close other coach windows or commands that are saving, then try again",
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreError(
            f"the history database {db} is corrupt ({exc})",
            "move it aside to start a new history; the coach never overwrites it",
        )
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return StoreError(
            f"cannot write the history database {db} ({exc})",
            "check the data dir's permissions and free disk space",
        )
    if "disk" in text or "full" in text:
        return StoreError(f"cannot write the history database {db} ({exc})", "free some disk space")
    return StoreError(f"history database error in {db}: {exc}", "report this as a bug")
