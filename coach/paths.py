"""Where the coach keeps user files.

Paths come from :mod:`platformdirs` (XDG on Linux) and are computed when asked for, never at
import time, so tests and users can redirect them with ``XDG_*_HOME`` or the ``COACH_*_DIR``
variables. Every directory is created private to the user (0700): answers about failures and
red flags never leave the machine and are not readable by other local users either.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import platformdirs

from coach.errors import CoachError

APP_NAME = "medpeds-coach"


def _private_dir(path: Path) -> Path:
    """Create ``path`` (0700) or make an existing one 0700; a one-line error if we cannot.

    The usual causes are a folder left owned by root by one ``sudo coach`` (chmod is then
    refused) and a file where the folder should be.
    """
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        # mkdir's mode is filtered by the umask and ignored for existing folders.
        if (path.stat().st_mode & 0o777) != 0o700:
            os.chmod(path, 0o700)
    except OSError as exc:
        raise folder_error(path, exc) from None
    if not path.is_dir():  # mkdir(exist_ok=True) accepts a symlink to a file as "exists"
        raise folder_error(path, NotADirectoryError(20, "Not a directory"))
    return path


def private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents as 0700 (a cache or data subfolder)."""
    return _private_dir(path)


def folder_error(path: Path, exc: OSError) -> CoachError:
    """The one-line error for a coach folder that cannot be used, with the fix."""
    blocker = _file_in_the_way(path)
    if blocker is not None:
        return CoachError(
            f"cannot use the folder {path}: {blocker} is a file, not a folder",
            f"move {blocker} aside (or set COACH_DATA_DIR/COACH_CONFIG_DIR to another folder)",
        )
    owner = foreign_owner(path)
    if owner is not None:
        return CoachError(
            f"cannot use the folder {path}: it belongs to {owner}, not to you "
            "(as after running the coach once with sudo)",
            f"give it back: sudo chown -R {current_user()} {path}",
        )
    return CoachError(
        f"cannot use the folder {path}: {exc.strerror or exc}",
        "check its permissions and free disk space (or set COACH_DATA_DIR/COACH_CONFIG_DIR)",
    )


def _file_in_the_way(path: Path) -> Path | None:
    for p in (path, *path.parents):
        try:
            mode = p.stat().st_mode
        except OSError:  # missing, or inside a folder we may not look into
            continue
        if not stat.S_ISDIR(mode):
            return p
    return None


def foreign_owner(path: Path) -> str | None:
    """The owner's name if ``path`` (or its nearest existing parent) is not ours."""
    for p in (path, *path.parents):
        try:
            st = p.stat()
        except OSError:
            continue
        if st.st_uid == os.geteuid():
            return None
        try:
            import pwd

            return pwd.getpwuid(st.st_uid).pw_name
        except (ImportError, KeyError):
            return f"user {st.st_uid}"
    return None


def current_user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return "$USER"


def check_private_dirs() -> None:
    """Fail before recording (one-line CoachError) if an answer could not be saved.

    Creates or checks the config, data and recordings folders, and checks that they (and a
    history database already in them) are ours and writable. ``coach rehearse`` and
    ``coach record`` call this first, so a bad folder is reported before the user speaks.
    """
    folders = [config_dir(), data_dir(), recordings_dir()]
    for folder in folders:
        if not os.access(folder, os.W_OK | os.X_OK):
            raise folder_error(folder, PermissionError(13, "Permission denied"))
    for name in ("history.sqlite3", "history.sqlite3-wal", "history.sqlite3-shm"):
        f = folders[1] / name
        if f.exists() and (not f.is_file() or not os.access(f, os.R_OK | os.W_OK)):
            owner = foreign_owner(f)
            raise CoachError(
                f"cannot write the history database {f}"
                + (f": it belongs to {owner}, not to you" if owner else ""),
                f"give it back: sudo chown -R {current_user()} {folders[1]}"
                if owner
                else "check its permissions",
            )


def config_dir() -> Path:
    """Settings and the user's own questions and rubric overrides (TOML)."""
    env = os.environ.get("COACH_CONFIG_DIR")
    return _private_dir(Path(env) if env else Path(platformdirs.user_config_dir(APP_NAME)))


def data_dir() -> Path:
    """The history database and recorded answers."""
    env = os.environ.get("COACH_DATA_DIR")
    return _private_dir(Path(env) if env else Path(platformdirs.user_data_dir(APP_NAME)))


def cache_dir() -> Path:
    """Converted model checkpoints and other files that can be rebuilt."""
    env = os.environ.get("COACH_CACHE_DIR")
    return _private_dir(Path(env) if env else Path(platformdirs.user_cache_dir(APP_NAME)))


def recordings_dir() -> Path:
    """Recorded answers (WAV), inside the data dir."""
    return _private_dir(data_dir() / "recordings")
