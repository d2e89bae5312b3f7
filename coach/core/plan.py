"""What a session asks, in which order, and how long each step lasts (no UI here).

A *plan* is a list of :class:`PlanItem`; the interview screen walks it. Mock interviews follow
the shape of a real ~30-minute residency interview: an opener, the failed-match question, why
Med-Peds, then one or two of the harder reapplicant topics, with follow-ups after some answers.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from coach.questions import Question
from coach.settings import Settings

MOCK_SHAPE: tuple[tuple[str, ...], ...] = (
    ("tell-me-about-yourself",),
    ("failed-match",),
    ("why-med-peds",),
    ("gap-year", "backup-plan", "red-flag"),
    ("why-this-program", "weakness", "conflict", "mistake", "teamwork", "backup-plan"),
)
MAX_FOLLOW_UPS = 2
WARN_BEFORE_S = 15  # the gentle "start wrapping up" nudge


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One question to answer, with its timings already resolved."""

    question: Question
    think_s: int
    answer_s: int
    follow_up_of: str | None = None  # the main question's id for a follow-up

    @property
    def warn_at_s(self) -> int:
        """Seconds into the answer when the gentle warning shows.

        15 s before the limit, but never in the first two thirds of a short answer: a nudge
        to wrap up at the very start of a 20-second drill answer would only rush the user.
        """
        return self.answer_s - min(WARN_BEFORE_S, self.answer_s // 3)


def timed(
    question: Question,
    settings: Settings,
    think_s: int | None = None,
    answer_s: int | None = None,
    follow_up_of: str | None = None,
) -> PlanItem:
    """Resolve timings: explicit override, then settings, then the question bank's defaults."""
    think = think_s if think_s is not None else settings.think_s
    answer = answer_s if answer_s is not None else settings.answer_s
    return PlanItem(
        question,
        question.think_s if think is None else think,
        answer if answer else question.hard_limit_s,
        follow_up_of,
    )


def follow_up_question(question: Question, index: int = 0) -> Question:
    """A follow-up asked after ``question``, scored with the same category rubric."""
    return replace(
        question,
        id=f"{question.id}#follow-up-{index + 1}",
        text=question.follow_ups[index],
        follow_ups=(),
        think_s=min(question.think_s, 15),
        target_min_s=min(question.target_min_s, 30),
        target_max_s=min(question.target_max_s, 60),
        hard_limit_s=min(question.hard_limit_s, 90),
    )


def mock_plan(
    questions: Sequence[Question],
    settings: Settings,
    *,
    n: int = 4,
    rng: random.Random | None = None,
) -> list[PlanItem]:
    """3–5 main questions across categories (always the failed-match one), with follow-ups."""
    rng = rng or random.Random()
    n = min(5, max(3, n))
    by_cat: dict[str, list[Question]] = {}
    for q in questions:
        by_cat.setdefault(q.category, []).append(q)
    chosen: list[Question] = []
    for slot in MOCK_SHAPE:
        if len(chosen) >= n:
            break
        pool = [q for cat in slot for q in by_cat.get(cat, []) if q not in chosen]
        if pool:
            chosen.append(rng.choice(pool))
    # A short bank: fill from anything left so the interview still has n questions.
    rest = [q for q in questions if q not in chosen]
    rng.shuffle(rest)
    while len(chosen) < n and rest:
        chosen.append(rest.pop())
    plan: list[PlanItem] = []
    follow_ups = 0
    for q in chosen:
        plan.append(timed(q, settings))
        wants_follow_up = q.category == "failed-match" or (follow_ups == 0 and len(plan) > 2)
        if q.follow_ups and follow_ups < MAX_FOLLOW_UPS and wants_follow_up:
            fq = follow_up_question(q, rng.randrange(len(q.follow_ups)))
            plan.append(timed(fq, settings, follow_up_of=q.id))
            follow_ups += 1
    return plan


def drill_plan(
    questions: Sequence[Question],
    settings: Settings,
    *,
    think_s: int | None = None,
    answer_s: int | None = None,
) -> list[PlanItem]:
    """Rapid-fire: every given question in order with the (possibly adjusted) timings."""
    return [timed(q, settings, think_s, answer_s) for q in questions]
