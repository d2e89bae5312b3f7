"""Answers that could not be saved to the history are parked, then imported at the next start.

A save can fail after the answer was recorded, transcribed and scored: the database is
locked by another program for longer than the busy timeout, the disk is full for a moment,
the file is damaged. Throwing the transcript and scores away then (and leaving a WAV that
history never shows) breaks "nothing recorded or scored is ever lost". Instead the attempt is
written to ``<data dir>/pending/answer-*.json`` (0600, folder 0700; atomically), the error
says where it and the recording are, and :func:`import_pending`, run whenever the history is
opened (``Store.open``: the app, ``coach rehearse``, ``coach history``, ...), adds it with its
original time and moves the recording in. A parked file that cannot be read is left in place
and reported, never deleted.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.errors import CoachError, StoreError

if TYPE_CHECKING:
    from coach.audio.transcript import Transcript
    from coach.scoring.report import ScoreReport
    from coach.store import Store

PENDING = "pending"
FORMAT = 1


def pending_dir(data_root: Path) -> Path:
    """Where parked answers wait (inside the data dir, next to the database)."""
    return data_root / PENDING


def park_attempt(
    data_root: Path,
    *,
    mode: str,
    session_settings: Mapping[str, Any],
    question_id: str | None,
    category: str,
    text: str,
    report: ScoreReport,
    transcript: Transcript | None,
    audio_path: Path | None,
    engine: str,
    model: str,
    created_at: datetime | None = None,
) -> Path:
    """Write one unsaved attempt to a private pending file; returns its path."""
    from coach.paths import private_dir

    record = {
        "format": FORMAT,
        "created_at": (created_at or datetime.now().astimezone()).isoformat(),
        "mode": mode,
        "session_settings": dict(session_settings),
        "question_id": question_id,
        "category": category,
        "text": text,
        "report": report.to_dict(),
        "overall": float(report.overall),  # to_dict rounds it
        "tips": list(report.tips),
        "transcript": transcript.to_dict() if transcript is not None else None,
        "audio_path": str(Path(audio_path).resolve()) if audio_path is not None else None,
        "engine": engine,
        "model": model,
    }
    folder = private_dir(pending_dir(data_root))
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"answer-{stamp}-{os.getpid()}.json"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".answer-", suffix=".tmp")  # 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), 0o600)
            json.dump(record, f, ensure_ascii=False, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def park_or_explain(
    failure: CoachError,
    audio_path: Path | None,
    data_root: Path | None = None,
    **attempt: Any,
) -> StoreError:
    """Park the attempt after ``failure``; return the one-line error that says where it is."""
    # save_attempt wraps the store's error with "...recording is kept at": say it once.
    if isinstance(failure.__cause__, CoachError):
        failure = failure.__cause__
    where = f"; the recording is kept at {audio_path}" if audio_path is not None else ""
    try:
        if data_root is None:
            from coach.paths import data_dir

            data_root = data_dir()
        parked = park_attempt(data_root, audio_path=audio_path, **attempt)
    except (OSError, CoachError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) else exc.message
        return StoreError(
            f"{failure.message}; the answer could not be saved or parked ({detail}){where}",
            failure.fix,
        )
    return StoreError(
        f"{failure.message}; the answer and its scores are kept in {parked} and will be added "
        f"to your history the next time the coach opens it{where}",
        failure.fix or "close other coach windows, then run `coach history`",
    )


def import_pending(store: Store) -> list[str]:
    """Add every parked answer to ``store``; returns one message per answer (or problem).

    An answer is removed from ``pending/`` only after it was saved; if the database is still
    busy, the files stay for the next start.
    """
    folder = pending_dir(store.root)
    if not folder.is_dir():
        return []
    messages: list[str] = []
    for path in sorted(folder.glob("answer-*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            attempt_id = _save(store, record)
        except StoreError:
            break  # still locked or failing: keep them all for the next start
        except (OSError, ValueError, KeyError, TypeError) as exc:
            messages.append(f"{path}: a parked answer that cannot be read ({exc}); left in place")
            continue
        path.unlink(missing_ok=True)
        messages.append(
            f"added an answer that could not be saved earlier as attempt {attempt_id} "
            f"({record.get('question_id') or 'free answer'}, {record['created_at'][:16]})"
        )
    return messages


def _save(store: Store, record: dict[str, Any]) -> int:
    from coach.audio.transcript import Transcript
    from coach.scoring.report import ScoreReport

    if record.get("format") != FORMAT:
        raise ValueError(f"unknown format {record.get('format')!r}")
    created = datetime.fromisoformat(record["created_at"])
    report = ScoreReport.from_dict(record["report"], text=record["text"])
    report = replace(report, overall=float(record["overall"]), tips=tuple(record["tips"]))
    transcript = Transcript.from_dict(record["transcript"]) if record["transcript"] else None
    audio = Path(record["audio_path"]) if record["audio_path"] else None
    if audio is not None and not audio.is_file():
        audio = None  # deleted by the user meanwhile: keep the scores and the transcript
    clock = store.clock
    store.clock = lambda: created  # the attempt keeps the time it was answered
    try:
        session_id = store.start_session(record["mode"], record["session_settings"])
        attempt_id = store.save_attempt(
            session_id,
            question_id=record["question_id"],
            category=record["category"],
            text=record["text"],
            report=report,
            transcript=transcript,
            audio_path=audio,
            engine=record["engine"],
            model=record["model"],
            mode=record["mode"],
        )
        with contextlib.suppress(StoreError):
            store.finish_session(session_id)
    finally:
        store.clock = clock
    return attempt_id
