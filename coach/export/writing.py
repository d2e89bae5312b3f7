"""Render an export in a format and write it atomically (0600, for the user's answers only).

Writes go to a private temporary file in the target folder, then ``os.replace``; the file is
0600 because it holds the user's answers.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final, Literal, cast

from coach.errors import CoachError
from coach.export.document import ExportDocument, StoryNotes, build_document
from coach.export.html_page import to_html
from coach.export.markdown import to_markdown
from coach.store import Store

Format = Literal["md", "html", "json"]
FORMATS: Final[tuple[str, ...]] = ("md", "html", "json")


def export_session(
    store: Store,
    session_id: int | str,
    fmt: str,
    *,
    include_audio: bool = True,
    redact: Sequence[str] = (),
    redact_words: Sequence[str] = (),
    story: Mapping[int, StoryNotes] | None = None,
) -> str:
    """The session (an id or ``"latest"``) rendered as ``md``, ``html`` or ``json`` text.

    ``story``: the story checklist per attempt (see :func:`build_document`); None leaves it out.
    """
    fmt = _check_format(fmt)
    doc = build_document(
        store,
        session_id,
        include_audio=include_audio,
        redact=redact,
        redact_words=redact_words,
        story=story,
    )
    return render(doc, fmt)


def render(doc: ExportDocument, fmt: str) -> str:
    """Render a :func:`~coach.export.document.build_document` document."""
    fmt = _check_format(fmt)
    if fmt == "json":
        return json.dumps(doc.to_dict(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "md":
        return to_markdown(doc)
    return to_html(doc)


def write_export(
    store: Store,
    session_id: int | str,
    fmt: str,
    out: Path,
    *,
    include_audio: bool = True,
    redact: Sequence[str] = (),
    redact_words: Sequence[str] = (),
    story: Mapping[int, StoryNotes] | None = None,
) -> Path:
    """Export to ``out`` atomically (0600); a folder gets the default file name. Returns the file."""
    fmt = _check_format(fmt)
    doc = build_document(
        store,
        session_id,
        include_audio=include_audio,
        redact=redact,
        redact_words=redact_words,
        story=story,
    )
    out = Path(out).expanduser()
    if out.is_dir():
        out = out / default_export_name(doc.session.id, fmt)
    atomic_write(out, render(doc, fmt))
    return out


def default_export_name(session_id: int, fmt: str) -> str:
    """``coach-session-12.html``: no names or dates that could identify the user."""
    return f"coach-session-{session_id}.{_check_format(fmt)}"


def default_export_path(session_id: int, fmt: str, directory: Path | None = None) -> Path:
    """Where the app saves an export: ``directory``, else ~/Documents if it exists, else ~."""
    if directory is None:
        home = Path.home()
        directory = home / "Documents" if (home / "Documents").is_dir() else home
    return directory / default_export_name(session_id, fmt)


def atomic_write(out: Path, content: str) -> None:
    """Write ``content`` to ``out`` via a private temporary file and ``os.replace``."""
    folder = out.parent
    if not folder.is_dir():
        raise CoachError(
            f"cannot write {out}: the folder {folder} does not exist",
            "create it first or choose another --out",
        )
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{out.name}.", suffix=".tmp")
    except OSError as exc:
        raise CoachError(
            f"cannot write in {folder}: {exc.strerror or exc}",
            "check the folder's permissions or choose another --out",
        ) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise CoachError(
            f"cannot write {out}: {exc.strerror or exc}",
            "check free disk space and permissions; nothing was changed",
        ) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_format(fmt: str) -> Format:
    value = fmt.lower().lstrip(".")
    if value == "markdown":
        value = "md"
    if value not in FORMATS:
        raise CoachError(f"unknown export format {fmt!r}", "use md, html or json")
    return cast(Format, value)
