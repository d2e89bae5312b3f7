"""Where the coach keeps user files.

Paths come from :mod:`platformdirs` (XDG on Linux) and are computed when asked for, never at
import time, so tests and users can redirect them with ``XDG_*_HOME`` or the ``COACH_*_DIR``
variables. Every directory is created private to the user (0700): answers about failures and
red flags never leave the machine and are not readable by other local users either.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "medpeds-coach"


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkdir's mode is filtered by the umask and ignored for existing folders.
    os.chmod(path, 0o700)
    return path


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
