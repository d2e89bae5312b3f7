"""Where an export may be written: only a new file or a regular file the user agreed to replace.

``coach export --out X`` used to ``os.replace`` a temporary file onto whatever ``X`` was: a FIFO
or a device node (as root it replaced ``/dev/full``) became a regular file, a symlink was
replaced instead of followed, and an existing file was overwritten without a word. The rules:

* a FIFO, socket, character or block device, or a folder where the file would go: refused;
* a symlink: refused (replacing it would silently cut the link; following it could write
  anywhere), with the real path named so the user can pass that instead;
* an existing regular file: replaced only with ``--force`` or after a yes on a terminal; with
  no terminal to ask on, refused with a one-line error naming ``--force``.

The write itself stays atomic (``coach.export.atomic_write``: a private temporary file next to
the target, then ``os.replace``).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from coach.errors import CoachError

_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def check_target(
    out: Path,
    *,
    force: bool,
    ask: Callable[[str], bool] | None,
) -> Path:
    """Return ``out`` if an export may be written there, else raise a one-line CoachError.

    ``ask`` asks the user a yes/no question (None when there is no terminal to ask on).
    """
    try:
        st = os.lstat(out)
    except FileNotFoundError:
        return out
    except OSError as exc:
        raise CoachError(
            f"cannot check {out}: {exc.strerror or exc}", "choose another --out"
        ) from None
    if stat.S_ISLNK(st.st_mode):
        real = os.path.realpath(out)
        raise CoachError(
            f"{out} is a symbolic link (to {real}); the coach does not replace links",
            f"give the file itself (--out {real}) or another name",
        )
    for test, kind in _KINDS:
        if test(st.st_mode):
            raise CoachError(
                f"{out} is {kind}, not a file; an export is only written to a regular file",
                "choose a file name with --out",
            )
    if force:
        return out
    if ask is None:
        raise CoachError(
            f"{out} already exists and there is no terminal to ask whether to replace it",
            "add --force to replace it, or choose another --out",
        )
    if not ask(f"{out} already exists. Replace it?"):
        raise CoachError(f"{out} already exists; nothing was written", "choose another --out")
    return out
