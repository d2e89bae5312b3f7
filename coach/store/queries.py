"""The history's SQL: rows in, typed records out.

Every function takes an open connection and runs inside whatever the :class:`~coach.store.Store`
gives it (a locked read, or a write transaction); none of them commits, locks or touches a
file, so the store alone decides what is atomic.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final, cast

from coach.audio.transcript import Transcript
from coach.scoring.report import AnswerStats, CriterionResult, Evidence, ScoreReport
from coach.store.records import (
    Attempt,
    MentorComment,
    QuestionStats,
    Session,
    _no_attempt,
    _no_session,
    _time,
)

_SESSION_SQL: Final = (
    "SELECT s.id, s.mode, s.started_at, s.finished_at, s.settings,"
    " COUNT(a.id) AS n, MAX(a.overall) AS best, AVG(a.overall) AS mean"
    " FROM sessions s LEFT JOIN attempts a ON a.session_id = s.id"
)
_SESSION_END: Final = " GROUP BY s.id ORDER BY s.id DESC"
_ATTEMPT_SQL: Final = "SELECT a.* FROM attempts a"


def _session(r: Any) -> Session:
    return Session(
        id=r[0],
        mode=r[1],
        started_at=_time(r[2]),
        finished_at=_time(r[3]) if r[3] else None,
        settings=cast(dict[str, Any], json.loads(r[4] or "{}")),
        attempt_count=r[5],
        best=r[6],
        mean=r[7],
    )


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# --- attempts -------------------------------------------------------------------------------
def insert_attempt(
    conn: sqlite3.Connection,
    session_id: int,
    *,
    mode: str,
    question_id: str | None,
    category: str,
    text: str,
    report: ScoreReport,
    transcript: Transcript | None,
    engine: str,
    model: str,
    created_at: str,
    duration_s: float | None,
) -> int:
    """Insert an attempt and its criterion scores (no audio yet); returns the attempt id."""
    cur = conn.execute(
        "INSERT INTO attempts (session_id, mode, question_id, category, transcript,"
        " text, engine, model, overall, stats, tips, created_at, duration_s)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            session_id,
            mode,
            question_id,
            category,
            json.dumps(transcript.to_dict()) if transcript else None,
            text,
            engine or (transcript.engine if transcript else ""),
            model or (transcript.model if transcript else ""),
            float(report.overall),
            json.dumps(report.stats.to_dict()),
            json.dumps(list(report.tips)),
            created_at,
            duration_s,
        ),
    )
    attempt_id = cur.lastrowid
    assert attempt_id is not None
    conn.executemany(
        "INSERT INTO criterion_scores (attempt_id, position, criterion_id, name,"
        " score, passed, feedback, weight, evidence)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                attempt_id,
                i,
                c.id,
                c.name,
                float(c.score),
                int(c.passed),
                c.feedback,
                float(c.weight),
                json.dumps([e.to_dict() for e in c.evidence]),
            )
            for i, c in enumerate(report.criteria)
        ],
    )
    return attempt_id


def load_attempts(
    conn: sqlite3.Connection, rows: Sequence[Any], absolute: Callable[[str | None], Path | None]
) -> list[Attempt]:
    """Attempts from ``attempts`` rows, with their criterion scores (``absolute`` resolves
    a stored recording path against the data dir)."""
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    criteria: dict[int, list[CriterionResult]] = {i: [] for i in ids}
    # In chunks: SQLite caps the number of ? in one statement.
    for chunk in _chunks(ids, 500):
        marks = ",".join("?" * len(chunk))
        for c in conn.execute(
            "SELECT * FROM criterion_scores WHERE attempt_id IN (" + marks + ")"
            " ORDER BY attempt_id, position",
            chunk,
        ):
            criteria[c["attempt_id"]].append(
                CriterionResult(
                    id=c["criterion_id"],
                    name=c["name"],
                    score=c["score"],
                    passed=bool(c["passed"]),
                    feedback=c["feedback"],
                    evidence=tuple(Evidence.from_dict(e) for e in json.loads(c["evidence"])),
                    weight=c["weight"],
                )
            )
    out = []
    for r in rows:
        report = ScoreReport(
            question_id=r["question_id"],
            category=r["category"],
            text=r["text"],
            overall=r["overall"],
            criteria=tuple(criteria[r["id"]]),
            stats=AnswerStats.from_dict(json.loads(r["stats"])),
            tips=tuple(json.loads(r["tips"] or "[]")),
        )
        transcript = Transcript.from_dict(json.loads(r["transcript"])) if r["transcript"] else None
        out.append(
            Attempt(
                id=r["id"],
                session_id=r["session_id"],
                mode=r["mode"] or "",
                question_id=r["question_id"],
                category=r["category"],
                text=r["text"],
                report=report,
                transcript=transcript,
                audio_path=absolute(r["audio_path"]),
                engine=r["engine"],
                model=r["model"],
                created_at=_time(r["created_at"]),
                duration_s=r["duration_s"],
            )
        )
    return out


# --- progress -------------------------------------------------------------------------------
def question_stats(c: sqlite3.Connection) -> list[QuestionStats]:
    """Per question: attempt count, best, latest and mean overall score, when practised."""
    rows = c.execute(
        "SELECT question_id, category, overall, created_at FROM attempts"
        " WHERE question_id IS NOT NULL ORDER BY id"
    ).fetchall()
    grouped: dict[str, list[Any]] = {}
    for r in rows:
        grouped.setdefault(r["question_id"], []).append(r)
    stats = []
    for qid, rs in grouped.items():
        scores = [r["overall"] for r in rs]
        stats.append(
            QuestionStats(
                question_id=qid,
                category=rs[-1]["category"],
                attempts=len(rs),
                best=max(scores),
                latest=scores[-1],
                mean=sum(scores) / len(scores),
                first_practised=_time(rs[0]["created_at"]),
                last_practised=_time(rs[-1]["created_at"]),
            )
        )
    return sorted(stats, key=lambda s: s.question_id)


def criterion_history(c: sqlite3.Connection, criterion_id: str) -> list[tuple[datetime, float]]:
    """(time, score) of every attempt scored on ``criterion_id``, oldest first."""
    rows = c.execute(
        "SELECT a.created_at, s.score FROM criterion_scores s"
        " JOIN attempts a ON a.id = s.attempt_id WHERE s.criterion_id = ?"
        " ORDER BY a.id",
        (criterion_id,),
    ).fetchall()
    return [(_time(r[0]), float(r[1])) for r in rows]


def overall_history(c: sqlite3.Connection) -> list[tuple[datetime, float]]:
    """(time, overall score) of every attempt, oldest first."""
    rows = c.execute("SELECT created_at, overall FROM attempts ORDER BY id").fetchall()
    return [(_time(r[0]), float(r[1])) for r in rows]


def criterion_names(c: sqlite3.Connection) -> dict[str, str]:
    """Criterion id -> display name (latest seen), in first-seen order."""
    rows = c.execute(
        "SELECT criterion_id, name FROM criterion_scores ORDER BY attempt_id, position"
    ).fetchall()
    order: dict[str, str] = {}
    for cid, name in rows:
        order[str(cid)] = str(name)
    return order


# --- mentor comments ------------------------------------------------------------------------
def insert_comments(c: sqlite3.Connection, comments: Sequence[MentorComment], now: str) -> int:
    """Insert the comments not already there (same place, mentor and text); returns how many."""
    added = 0
    for m in comments:
        duplicate = c.execute(
            "SELECT 1 FROM mentor_comments WHERE session_id = ? AND attempt_id IS ?"
            " AND mentor = ? AND body = ?",
            (m.session_id, m.attempt_id, m.mentor, m.body),
        ).fetchone()
        if duplicate:
            continue
        c.execute(
            "INSERT INTO mentor_comments"
            " (session_id, attempt_id, mentor, body, source, imported_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (m.session_id, m.attempt_id, m.mentor, m.body, m.source, now),
        )
        added += 1
    return added


def comments(c: sqlite3.Connection, session_id: int) -> list[MentorComment]:
    """A session's mentor comments, oldest first (the overall notes included)."""
    rows = c.execute(
        "SELECT id, session_id, attempt_id, mentor, body, source, imported_at"
        " FROM mentor_comments WHERE session_id = ? ORDER BY id",
        (session_id,),
    ).fetchall()
    return [MentorComment(r[1], r[2], r[4], r[3], r[5], _time(r[6]), r[0]) for r in rows]


# --- deleting -------------------------------------------------------------------------------
# Scores and comments go with their attempt, attempts with their session (ON DELETE CASCADE);
# the caller removes the recordings once the transaction committed.
def delete_attempt(c: sqlite3.Connection, attempt_id: int) -> str | None:
    """Delete one attempt; returns its stored recording path (None without audio)."""
    row = c.execute("SELECT audio_path FROM attempts WHERE id = ?", (attempt_id,)).fetchone()
    if row is None:
        raise _no_attempt(attempt_id)
    c.execute("DELETE FROM attempts WHERE id = ?", (attempt_id,))
    return cast(str | None, row[0])


def delete_session(c: sqlite3.Connection, session_id: int) -> tuple[list[str | None], int]:
    """Delete a session; returns its attempts' stored recording paths and how many there were."""
    if c.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is None:
        raise _no_session(session_id)
    audio = [
        r[0]
        for r in c.execute("SELECT audio_path FROM attempts WHERE session_id = ?", (session_id,))
    ]
    count = c.execute(
        "SELECT COUNT(*) FROM attempts WHERE session_id = ?", (session_id,)
    ).fetchone()[0]
    c.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
    return audio, int(count)
