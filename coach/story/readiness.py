"""Interview-day readiness: one line per category, from the history and the story.

For each category: how many answers were practised (and how many of its questions), the latest
and best overall score, the story points the current answers still leave unsaid, and the open
consistency flags. "Current answers" are the latest attempt at each question (and the latest
free answer of each category): answering a question again closes what the old answer left
open. Pure domain: the command and the app screen only render :class:`Readiness`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from coach.questions import CATEGORIES, Question
from coach.story.consistency import AnswerText, ConsistencyFlag, check_answers
from coach.story.coverage import check_point, points_for, story_points
from coach.story.profile import StoryProfile

if TYPE_CHECKING:
    from coach.store import Attempt

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class CategoryReadiness:
    """One category's line of the readiness summary."""

    category: str
    attempts: int
    questions_practised: int
    questions_total: int
    latest: float | None
    best: float | None
    unsaid: tuple[str, ...]  # labels of needed story points no current answer says
    flags: tuple[ConsistencyFlag, ...]

    @property
    def practised(self) -> bool:
        return self.attempts > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "attempts": self.attempts,
            "questions_practised": self.questions_practised,
            "questions_total": self.questions_total,
            "latest": None if self.latest is None else round(self.latest, 1),
            "best": None if self.best is None else round(self.best, 1),
            "unsaid": list(self.unsaid),
            "flags": [f.to_dict() for f in self.flags],
        }


@dataclass(frozen=True, slots=True)
class Readiness:
    """The whole summary: per category, the must-say points not yet said, and every flag."""

    categories: tuple[CategoryReadiness, ...]
    must_say_unsaid: tuple[str, ...]
    flags: tuple[ConsistencyFlag, ...]
    has_story: bool

    def category(self, name: str) -> CategoryReadiness:
        return next(c for c in self.categories if c.category == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "has_story": self.has_story,
            "categories": [c.to_dict() for c in self.categories],
            "must_say_unsaid": list(self.must_say_unsaid),
            "flags": [f.to_dict() for f in self.flags],
        }


def current_answers(attempts: Iterable[Attempt]) -> list[Attempt]:
    """The latest attempt per question (per category for free answers), oldest first."""
    latest: dict[tuple[str, str], Attempt] = {}
    for a in sorted(attempts, key=lambda a: a.id):
        latest[(a.category, a.question_id or "")] = a
    return sorted(latest.values(), key=lambda a: a.id)


def _label(a: Attempt) -> str:
    return f"{a.category} answer" + (f" ({a.question_id})" if a.question_id else "")


def build_readiness(
    attempts: Sequence[Attempt], bank: Iterable[Question], story: StoryProfile | None
) -> Readiness:
    """The readiness summary from the whole history, the question bank and the story."""
    story = story if story is not None and not story.is_empty else None
    questions = list(bank)
    current = current_answers(attempts)
    texts = [AnswerText(_label(a), a.text, a.id) for a in current]
    flags = check_answers(texts, story)
    category_of: dict[int | None, str] = {a.id: a.category for a in current}
    lines = []
    for cat in CATEGORIES:
        mine = [a for a in attempts if a.category == cat]
        now = [a for a in current if a.category == cat]
        unsaid: tuple[str, ...] = ()
        if story is not None:
            unsaid = tuple(
                p.label
                for p, needed in points_for(cat, story)
                if needed and not any(check_point(p, a.text)[0] for a in now)
            )
        lines.append(
            CategoryReadiness(
                category=cat,
                attempts=len(mine),
                questions_practised=len({a.question_id for a in mine if a.question_id}),
                questions_total=sum(1 for q in questions if q.category == cat),
                latest=mine[-1].overall if mine else None,
                best=max(a.overall for a in mine) if mine else None,
                unsaid=unsaid,
                flags=tuple(
                    f
                    for f in flags
                    if cat
                    in (category_of.get(f.first.attempt_id), category_of.get(f.second.attempt_id))
                ),
            )
        )
    must_say: tuple[str, ...] = ()
    if story is not None:
        must_say = tuple(
            p.label
            for p in story_points(story)
            if p.part == "must_say" and not any(check_point(p, a.text)[0] for a in current)
        )
    return Readiness(tuple(lines), must_say, tuple(flags), story is not None)


def render_readiness(r: Readiness, width: int = 80) -> str:
    """The plain-text summary ``coach readiness`` prints (and the app screen mirrors)."""
    lines = ["Interview-day readiness", ""]
    lines.append(f"  {'Category':<24} {'Answers':>7} {'Questions':>9} {'Latest':>6} {'Best':>4}")
    for c in r.categories:
        latest = "-" if c.latest is None else f"{c.latest:.0f}"
        best = "-" if c.best is None else f"{c.best:.0f}"
        qs = f"{c.questions_practised}/{c.questions_total}"
        lines.append(f"  {c.category:<24} {c.attempts:>7} {qs:>9} {latest:>6} {best:>4}")
        if c.unsaid:
            lines.append(_wrap("still unsaid: " + " · ".join(c.unsaid), width))
        if c.flags:
            n = len(c.flags)
            lines.append(f"      {n} open consistency flag{'s' if n != 1 else ''} (below)")
    lines.append("")
    if not r.has_story:
        lines.append("No story yet: write story.toml (see `coach story --help`) to check")
        lines.append("what each answer says and whether the answers agree.")
        return "\n".join(lines) + "\n"
    if r.must_say_unsaid:
        lines.append("Must-say points no current answer says yet:")
        lines.extend(f"  - {p}" for p in r.must_say_unsaid)
    else:
        lines.append("Every must-say point is in at least one current answer.")
    lines.append("")
    if r.flags:
        lines.append("Consistency (answers that tell the story differently):")
        for f in r.flags:
            lines.append(_wrap("- " + f.message, width, indent=2))
    else:
        lines.append("No contradictions between your current answers and your story.")
    return "\n".join(lines) + "\n"


def _wrap(text: str, width: int, indent: int = 6) -> str:
    import textwrap

    return "\n".join(
        textwrap.wrap(
            text,
            max(40, width - 2),
            initial_indent=" " * indent,
            subsequent_indent=" " * (indent + 2),
        )
    )


def load_readiness() -> Readiness:
    """The summary from the saved history, the question bank and the saved story (blocking:
    the app calls it from a worker). Errors are CoachErrors naming what to fix."""
    from coach.questions import load_question_bank
    from coach.store import Store
    from coach.story.profile import load_story

    story = load_story()
    bank = load_question_bank()
    with Store.open() as store:
        attempts = store.attempts()
    return build_readiness(attempts, bank, story)


def flags_for_answer(
    category: str, question_id: str | None, text: str, attempt_id: int | None = None
) -> list[ConsistencyFlag]:
    """Contradictions between a new answer and the story and the current answers to the *other*
    questions in the history (for the review screen; blocking: call from a worker).

    Earlier answers to the same question are left out: a retry is often the correction.
    """
    from coach.store import Store
    from coach.story.profile import load_story

    story = load_story()
    with Store.open() as store:
        attempts = store.attempts()
    others = [
        a
        for a in current_answers(attempts)
        # A free answer (no question id) is left out by its own attempt id once saved.
        if (a.question_id != question_id if question_id is not None else a.id != attempt_id)
    ]
    label = "this answer"
    mine = AnswerText(label, text, attempt_id)
    # This answer last, so each flag reads "in the earlier answer: …; in this answer: …".
    flags = check_answers([*(AnswerText(_label(a), a.text, a.id) for a in others), mine], story)
    return [f for f in flags if label in (f.first.source, f.second.source)]
