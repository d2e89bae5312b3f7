"""Which questions to drill next: spaced repetition over the practice history (pure domain).

A Leitner-style schedule. Each question sits in a *box* decided by its latest score, and each
box has a review interval; a question is *due* once that interval has passed since it was last
practised::

    box 0  never practised          due now
    box 1  latest score < 50        due now (practise again soon)
    box 2  latest score 50-69       due 1 day after the last attempt
    box 3  latest score 70-84       due 3 days after
    box 4  latest score >= 85       due 7 days after; 14 days with 3+ attempts (mastered)

:func:`pick_questions` takes due questions first: unpractised and weak ones (boxes 0-1) mixed
at random so a drill is not all new or all old, then boxes 2-4 by how overdue they are, then
the not-yet-due ones soonest first. With ``favour_weak=False`` the user opted out: a plain
random order. Nothing here touches the database or the clock unless told (``now``, ``rng``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

from coach.questions import Question

# (lowest latest score, box, review interval)
BOXES: Final[tuple[tuple[float, int, timedelta], ...]] = (
    (85.0, 4, timedelta(days=7)),
    (70.0, 3, timedelta(days=3)),
    (50.0, 2, timedelta(days=1)),
    (0.0, 1, timedelta(0)),
)
MASTERED_INTERVAL: Final = timedelta(days=14)


class PracticeStats(Protocol):
    """What the scheduler needs to know about a question (``coach.store.QuestionStats``)."""

    @property
    def question_id(self) -> str: ...
    @property
    def attempts(self) -> int: ...
    @property
    def best(self) -> float: ...
    @property
    def latest(self) -> float: ...
    @property
    def last_practised(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Scheduled:
    """A question with its place in the schedule and a short reason the app can show."""

    question: Question
    box: int
    due: datetime | None  # None: never practised
    reason: str

    def is_due(self, now: datetime) -> bool:
        return self.due is None or self.due <= now


def box_for(stats: PracticeStats | None) -> tuple[int, timedelta]:
    """The Leitner box and review interval for a question's history (box 0 = new)."""
    if stats is None or stats.attempts == 0:
        return 0, timedelta(0)
    for threshold, box, interval in BOXES:
        if stats.latest >= threshold:
            if box == 4 and stats.attempts >= 3 and stats.best >= 85.0:
                return box, MASTERED_INTERVAL
            return box, interval
    return 1, timedelta(0)


def schedule(
    bank_questions: Sequence[Question],
    store_stats: Iterable[PracticeStats] | Mapping[str, PracticeStats],
    *,
    now: datetime | None = None,
) -> list[Scheduled]:
    """Every question with its box, due time and reason, in the bank's order."""
    by_id = _by_id(store_stats)
    out = []
    for q in bank_questions:
        stats = by_id.get(q.id)
        box, interval = box_for(stats)
        if stats is None or box == 0:
            out.append(Scheduled(q, 0, None, "not practised yet"))
            continue
        due = _aware(stats.last_practised) + interval
        reason = (
            f"latest score {stats.latest:.0f}"
            + (" (weak)" if box == 1 else "")
            + f", {stats.attempts} attempt{'s' if stats.attempts != 1 else ''}"
        )
        out.append(Scheduled(q, box, due, reason))
    return out


def pick_questions(
    bank_questions: Sequence[Question],
    store_stats: Iterable[PracticeStats] | Mapping[str, PracticeStats],
    n: int,
    *,
    category: str | None = None,
    favour_weak: bool = True,
    rng: random.Random | None = None,
    now: datetime | None = None,
) -> list[Question]:
    """Up to ``n`` distinct questions for a drill (fewer if the bank or category is smaller).

    ``store_stats`` is :meth:`coach.store.Store.question_stats` (a list or a mapping by id).
    """
    rng = rng or random.Random()
    pool = [q for q in bank_questions if category is None or q.category == category]
    if n <= 0 or not pool:
        return []
    if not favour_weak:
        return rng.sample(pool, min(n, len(pool)))
    when = _aware(now) if now is not None else datetime.now(UTC)
    items = schedule(pool, store_stats, now=when)

    def key(item: Scheduled) -> tuple[int, float, float]:
        jitter = rng.random()
        if item.is_due(when):
            if item.box <= 1:
                return (0, 0.0, jitter)  # new and weak, mixed
            assert item.due is not None
            overdue = (when - item.due).total_seconds()
            return (1, float(item.box), -overdue + jitter)
        assert item.due is not None
        return (2, (item.due - when).total_seconds(), jitter)

    ordered = sorted(items, key=key)
    return [item.question for item in ordered[:n]]


def _by_id(
    store_stats: Iterable[PracticeStats] | Mapping[str, PracticeStats],
) -> dict[str, PracticeStats]:
    if isinstance(store_stats, Mapping):
        return dict(store_stats)
    return {s.question_id: s for s in store_stats}


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)
