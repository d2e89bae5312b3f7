"""Progress over time, summarized from the store for `coach history` and the app's history screen.

Pure domain (no UI): :func:`summarize` gathers sessions, per-question stats, per-criterion score
series and the weakest questions into one :class:`HistorySummary`; :func:`sparkline` draws a
series as a one-line terminal chart (``▁▂▃▄▅▆▇█`` on a fixed 0-100 scale, so lines compare).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from coach import questions
from coach.errors import CoachError
from coach.questions import Question
from coach.store import QuestionStats, Session, Store

SCHEMA_VERSION: Final = 1
BARS: Final = "▁▂▃▄▅▆▇█"


def sparkline(
    values: Sequence[float], *, lo: float = 0.0, hi: float = 100.0, width: int = 40
) -> str:
    """The last ``width`` values as block characters on a fixed ``lo``-``hi`` scale."""
    if not values or width <= 0:
        return ""
    span = (hi - lo) or 1.0
    out = []
    for v in values[-width:]:
        frac = min(1.0, max(0.0, (v - lo) / span))
        out.append(BARS[min(len(BARS) - 1, int(frac * len(BARS)))])
    return "".join(out)


@dataclass(frozen=True, slots=True)
class CriterionProgress:
    """One criterion's scores over time (oldest first)."""

    criterion_id: str
    name: str
    points: tuple[tuple[datetime, float], ...]

    @property
    def scores(self) -> list[float]:
        return [s for _, s in self.points]

    @property
    def first(self) -> float:
        return self.points[0][1]

    @property
    def latest(self) -> float:
        return self.points[-1][1]

    @property
    def best(self) -> float:
        return max(self.scores)

    @property
    def change(self) -> float:
        """Latest minus first score."""
        return self.latest - self.first

    def to_dict(self) -> dict[str, Any]:
        return {
            "criterion_id": self.criterion_id,
            "name": self.name,
            "first": round(self.first, 1),
            "latest": round(self.latest, 1),
            "best": round(self.best, 1),
            "change": round(self.change, 1),
            "points": [{"time": t.isoformat(), "score": round(s, 1)} for t, s in self.points],
        }


@dataclass(frozen=True, slots=True)
class HistorySummary:
    """Everything the history views show."""

    sessions: list[Session]
    questions: list[QuestionStats]
    overall: CriterionProgress | None  # the overall score as a series
    criteria: list[CriterionProgress]
    weakest: list[QuestionStats]
    question_text: dict[str, str] = field(default_factory=dict)  # id -> text, when known

    @property
    def attempt_count(self) -> int:
        return sum(s.attempt_count for s in self.sessions)

    @property
    def is_empty(self) -> bool:
        return self.attempt_count == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "attempt_count": self.attempt_count,
            "sessions": [s.to_dict() for s in self.sessions],
            "questions": [
                {**q.to_dict(), "text": self.question_text.get(q.question_id)}
                for q in self.questions
            ],
            "overall": self.overall.to_dict() if self.overall else None,
            "criteria": [c.to_dict() for c in self.criteria],
            "weakest": [q.question_id for q in self.weakest],
        }


def summarize(
    store: Store,
    *,
    weakest: int = 5,
    lookup: Callable[[str | None], Question | None] | None = None,
) -> HistorySummary:
    """Read the whole history once and summarize it."""
    find = lookup or question_lookup()
    questions = store.question_stats()
    overall_points = store.overall_history()
    criteria = [
        CriterionProgress(cid, name, tuple(store.criterion_history(cid)))
        for cid, name in store.criterion_names().items()
    ]
    texts = {}
    for q in questions:
        found = find(q.question_id)
        if found is not None:
            texts[q.question_id] = found.text
    return HistorySummary(
        sessions=store.sessions(),
        questions=questions,
        overall=CriterionProgress("overall", "Overall", tuple(overall_points))
        if overall_points
        else None,
        criteria=[c for c in criteria if c.points],
        weakest=store.weakest_questions(weakest),
        question_text=texts,
    )


def question_lookup() -> Callable[[str | None], Question | None]:
    """Find questions by id in the question bank (shipped and the user's own).

    Callers show the id instead when this returns None (a custom question that was removed, a
    broken bank file): history and exports must work whatever the bank's state.
    """
    try:
        bank = list(questions.load_question_bank())
    except (CoachError, OSError):  # a broken bank must not stop history or exports
        bank = []
    found = {q.id: q for q in bank}
    return lambda qid: found.get(qid) if qid else None
