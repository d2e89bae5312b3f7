"""Open a folder in the user's file manager, when this machine has a way to.

``xdg-open`` (Linux and other Unix desktops), ``open`` (macOS) or ``os.startfile`` (Windows).
On Linux without a graphical session (no ``DISPLAY`` / ``WAYLAND_DISPLAY``: a console, ssh or
a bare tmux) ``xdg-open`` would at best fail and at worst start a text browser in the very
terminal the app is drawing in, so there the app only says the path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from coach.errors import CoachError


def folder_opener() -> list[str] | None:
    """The command that opens a folder here (the folder is appended), or None when none does.

    On Windows the list is ``["startfile"]``: :func:`open_folder` calls ``os.startfile``.
    """
    if sys.platform == "win32":
        return ["startfile"] if hasattr(os, "startfile") else None
    if sys.platform == "darwin":
        exe = shutil.which("open")
        return [exe] if exe else None
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return None
    exe = shutil.which("xdg-open")
    return [exe] if exe else None


def open_folder(folder: Path) -> None:
    """Show ``folder`` in the file manager without waiting; CoachError says why it cannot."""
    command = folder_opener()
    if command is None:
        raise CoachError(
            f"this computer has no way to open folders from here; the folder is {folder}",
            "open it from your file manager",
        )
    if command == ["startfile"]:  # pragma: no cover - Windows only
        try:
            os.startfile(folder)  # type: ignore[attr-defined]
        except OSError as exc:
            raise CoachError(f"could not open {folder} ({exc})", "open it by hand") from exc
        return
    try:
        # A new session and no terminal streams: the file manager must never draw over the app
        # or be stopped with it; nobody waits for it.
        subprocess.Popen(
            [*command, str(folder)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        raise CoachError(
            f"could not open {folder} ({exc.strerror or exc})", "open it from your file manager"
        ) from exc
