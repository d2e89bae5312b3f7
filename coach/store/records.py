"""The typed records the history hands out, and the values a caller may put into it.

Plain frozen dataclasses (:class:`Session`, :class:`Attempt`, :class:`MentorComment`,
:class:`QuestionStats`) with the ``to_dict`` forms that ``coach history --json`` and the
exports print, plus the checks on what comes in: a session mode and an id typed by the user.
Nothing here touches SQLite or the disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal, get_args

from coach.audio.transcript import Transcript
from coach.errors import StoreError
from coach.scoring.report import ScoreReport

Mode = Literal["mock", "drill", "solo", "rehearse"]
MODES: Final[tuple[str, ...]] = get_args(Mode)


@dataclass(frozen=True, slots=True)
class Session:
    """A practice session with a summary of its attempts."""

    id: int
    mode: str
    started_at: datetime
    finished_at: datetime | None
    settings: dict[str, Any] = field(default_factory=dict)
    attempt_count: int = 0
    best: float | None = None  # best overall score in the session
    mean: float | None = None  # mean overall score in the session

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "mode": self.mode,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "settings": self.settings,
            "attempt_count": self.attempt_count,
            "best": _round(self.best),
            "mean": _round(self.mean),
        }


@dataclass(frozen=True, slots=True)
class Attempt:
    """One scored answer: what was said, how it sounded and how it scored."""

    id: int
    session_id: int
    mode: str
    question_id: str | None
    category: str
    text: str
    report: ScoreReport
    transcript: Transcript | None
    audio_path: Path | None  # absolute; None for typed answers or after --no-audio
    engine: str
    model: str
    created_at: datetime
    duration_s: float | None

    @property
    def overall(self) -> float:
        return self.report.overall

    def scores(self) -> dict[str, float]:
        """Criterion id -> score."""
        return {c.id: c.score for c in self.report.criteria}

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "session_id": self.session_id,
            "mode": self.mode,
            "question_id": self.question_id,
            "category": self.category,
            "text": self.text,
            "overall": round(self.overall, 1),
            "report": self.report.to_dict(),
            "tips": list(self.report.tips),
            "transcript": self.transcript.to_dict() if self.transcript else None,
            "audio_path": str(self.audio_path) if self.audio_path else None,
            "engine": self.engine,
            "model": self.model,
            "created_at": self.created_at.isoformat(),
            "duration_s": _round(self.duration_s, 2),
        }


@dataclass(frozen=True, slots=True)
class MentorComment:
    """A comment a mentor sent back; ``attempt_id`` None is their note on the whole session."""

    session_id: int
    attempt_id: int | None
    body: str
    mentor: str = ""
    source: str = ""  # "html" or "md": which export the mentor wrote in
    imported_at: datetime | None = None
    id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "attempt_id": self.attempt_id,
            "mentor": self.mentor,
            "body": self.body,
            "source": self.source,
            "imported_at": self.imported_at.isoformat() if self.imported_at else None,
        }


@dataclass(frozen=True, slots=True)
class QuestionStats:
    """How one question has gone so far (what spaced repetition looks at)."""

    question_id: str
    category: str
    attempts: int
    best: float
    latest: float
    mean: float
    first_practised: datetime
    last_practised: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "question_id": self.question_id,
            "category": self.category,
            "attempts": self.attempts,
            "best": round(self.best, 1),
            "latest": round(self.latest, 1),
            "mean": round(self.mean, 1),
            "first_practised": self.first_practised.isoformat(),
            "last_practised": self.last_practised.isoformat(),
        }


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- what comes in --------------------------------------------------------------------------
#: SQLite's largest INTEGER; a bigger id cannot exist (and would overflow the query).
MAX_ID = 2**63 - 1


def parse_id(value: str, kind: str, *, also: str = "") -> int:
    """A session or attempt id typed by the user: ASCII digits only, at most :data:`MAX_ID`.

    ``str.isdigit`` also accepts "²" and other Unicode digits that ``int`` then rejects.
    """
    text = value.strip()
    if not text or not text.isascii() or not text.isdigit():
        raise StoreError(
            f"{value!r} is not a {kind} id",
            f"give a number from `coach history`{' ' + also if also else ''}",
        )
    number = int(text)
    if number > MAX_ID:
        raise StoreError(
            f"there is no {kind} {text} in the history (ids are far smaller)",
            f"list {kind}s with `coach history`",
        )
    return number


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise StoreError(f"unknown session mode {mode!r}", f"use one of {', '.join(MODES)}")


def _no_session(session_id: int) -> StoreError:
    return StoreError(
        f"there is no session {session_id} in the history", "list sessions with `coach history`"
    )


def _no_attempt(attempt_id: int) -> StoreError:
    return StoreError(
        f"there is no attempt {attempt_id} in the history", "list attempts with `coach history`"
    )
