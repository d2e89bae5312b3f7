"""Coverage: which of the story's points belong in an answer, and whether it said them.

Each category needs some points (the failed-match answer needs the honest reason and what
changed; why-Med-Peds needs the applicant's own exposure) and has room for others (the
must-say points fit anywhere). The review shows a short checklist, "said: research
coordinator role · not said: new pediatrics letter"; ``coach score --json`` and readiness use
the same typed result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from coach.spoken.matching import match_phrase
from coach.spoken.numbers import find_numbers, normalise
from coach.story.profile import StoryProfile

#: The story parts each category needs ("needed") and has room for ("fits"). Part names are
#: the prefixes of :class:`StoryPoint` ids. must_say fits every category.
CATEGORY_PARTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "failed-match": (
        ("reason", "role", "letter"),
        ("sub_i", "exam", "research_qi", "remediation", "programs", "soap"),
    ),
    "why-med-peds": (("sub_i", "role"), ("research_qi",)),
    "why-this-program": ((), ("role", "research_qi", "sub_i")),
    "backup-plan": (("backup_plan",), ("role",)),
    "red-flag": (("red_flag", "remediation", "exam"), ("letter", "role")),
    "gap-year": (("role", "months"), ("where", "research_qi", "letter", "sub_i", "remediation")),
    "tell-me-about-yourself": (("role",), ("sub_i", "research_qi")),
    "weakness": ((), ("remediation",)),
    "conflict": ((), ("role",)),
    "mistake": ((), ("role", "remediation")),
    "teamwork": ((), ("role",)),
}


@dataclass(frozen=True, slots=True)
class StoryPoint:
    """One checkable point of the story: ``id`` like ``letter.0``, a short label, the text."""

    id: str
    label: str
    text: str
    require: tuple[str, ...] = ()  # words that must be said too (see match_phrase)
    months: int | None = None  # a duration point, matched on numbers instead of words

    @property
    def part(self) -> str:
        return self.id.split(".")[0]


@dataclass(frozen=True, slots=True)
class PointResult:
    """Whether one point was said in one answer, and the sentence that said it."""

    point: StoryPoint
    needed: bool  # the category needs it (otherwise it just fits)
    said: bool
    quote: str = ""
    score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.point.id,
            "label": self.point.label,
            "needed": self.needed,
            "said": self.said,
            "quote": self.quote,
            "score": round(self.score, 2),
        }


@dataclass(frozen=True, slots=True)
class StoryCoverage:
    """The story checklist of one answer."""

    category: str
    points: tuple[PointResult, ...]

    @property
    def said(self) -> tuple[PointResult, ...]:
        return tuple(p for p in self.points if p.said)

    @property
    def not_said(self) -> tuple[PointResult, ...]:
        """Points the category needs that the answer did not say (fitting ones are optional)."""
        return tuple(p for p in self.points if p.needed and not p.said)

    def summary(self) -> str:
        """One line for the review screen: "said: … · not said: …"."""
        parts = []
        if self.said:
            parts.append("said: " + ", ".join(p.point.label for p in self.said))
        if self.not_said:
            parts.append("not said: " + ", ".join(p.point.label for p in self.not_said))
        return " · ".join(parts) if parts else "no story points for this question"

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "said": [p.point.label for p in self.said],
            "not_said": [p.point.label for p in self.not_said],
            "points": [p.to_dict() for p in self.points],
        }


def _short(text: str, words: int = 6) -> str:
    split = text.split()
    return " ".join(split[:words]) + ("…" if len(split) > words else "")


def story_points(story: StoryProfile) -> list[StoryPoint]:
    """Every checkable point of the story, in the order the form shows them."""
    lc, s = story.last_cycle, story.since
    pts: list[StoryPoint] = []
    for i, reason in enumerate(story.reasons):
        pts.append(StoryPoint(f"reason.{i}", f"reason: {_short(reason)}", reason))
    if lc.programs is not None:
        pts.append(StoryPoint("programs", f"{lc.programs} programs", f"{lc.programs} programs"))
    if lc.soap is not None:
        pts.append(StoryPoint("soap", "SOAP", "soap"))
    if s.role:
        pts.append(StoryPoint("role", f"{s.role} role", s.role))
    if s.where:
        pts.append(StoryPoint("where", f"where: {_short(s.where)}", s.where))
    if s.months is not None:
        pts.append(
            StoryPoint("months", f"{s.months} months", f"{s.months} months", months=s.months)
        )
    for i, letter in enumerate(s.letters):
        pts.append(StoryPoint(f"letter.{i}", f"new letter: {letter}", letter, require=("letter",)))
    if s.sub_i:
        pts.append(StoryPoint("sub_i", s.sub_i, s.sub_i))
    for i, exam in enumerate(s.exams):
        label = f"{exam.name} {exam.result}".strip()
        pts.append(StoryPoint(f"exam.{i}", label, exam.name))
    for i, item in enumerate(s.research_qi):
        pts.append(StoryPoint(f"research_qi.{i}", item, item))
    if s.remediation:
        pts.append(
            StoryPoint("remediation", f"remediation: {_short(s.remediation)}", s.remediation)
        )
    if story.backup_plan:
        pts.append(
            StoryPoint(
                "backup_plan", f"backup plan: {_short(story.backup_plan)}", story.backup_plan
            )
        )
    for i, flag in enumerate(story.red_flags):
        pts.append(StoryPoint(f"red_flag.{i}", f"red flag: {_short(flag)}", flag))
    for i, point in enumerate(story.must_say):
        pts.append(StoryPoint(f"must_say.{i}", point, point))
    return pts


def said_months(months: int, answer: str) -> str:
    """The sentence of ``answer`` giving this duration ("12 months", "a year"), or ""."""
    for sentence in answer.replace("?", ".").replace("!", ".").split("."):
        norm = " " + normalise(sentence) + " "
        for n in find_numbers(sentence):
            if n.ordinal:
                continue
            after = normalise(sentence[n.end : n.end + 12])
            if (after.startswith("month") and n.value == months) or (
                after.startswith("year") and n.value * 12 == months
            ):
                return sentence.strip()
        if months == 12 and (" a year " in norm or " past year " in norm or " full year " in norm):
            return sentence.strip()
        if months == 18 and " a year and a half " in norm:
            return sentence.strip()
    return ""


def check_point(point: StoryPoint, answer: str) -> tuple[bool, str, float]:
    """(said, quote, score) for one point in one answer."""
    if point.months is not None:
        quote = said_months(point.months, answer)
        return bool(quote), quote, 1.0 if quote else 0.0
    m = match_phrase(point.text, answer, require=point.require)
    return m.said, m.quote if m.said else "", m.score


def points_for(category: str, story: StoryProfile) -> list[tuple[StoryPoint, bool]]:
    """The story points for a category, each with whether it is needed (else it fits)."""
    needed, fits = CATEGORY_PARTS.get(category, ((), ()))
    out = []
    for p in story_points(story):
        if p.part in needed:
            out.append((p, True))
        elif p.part in fits or p.part == "must_say":
            out.append((p, False))
    return out


def check_coverage(category: str, answer: str, story: StoryProfile) -> StoryCoverage:
    """The story checklist for one answer to a question of ``category``."""
    results = []
    for point, needed in points_for(category, story):
        said, quote, score = check_point(point, answer)
        results.append(PointResult(point, needed, said, quote, score))
    return StoryCoverage(category, tuple(results))


def unsaid(category: str, answers: Iterable[str], story: StoryProfile) -> list[StoryPoint]:
    """Needed points of a category that none of ``answers`` said (for readiness)."""
    texts = list(answers)
    return [
        p
        for p, needed in points_for(category, story)
        if needed and not any(check_point(p, t)[0] for t in texts)
    ]


def coverage_for_saved_story(category: str, answer: str) -> tuple[StoryCoverage | None, str]:
    """(coverage against the saved story, warning): (None, "") when there is no story.

    A broken story file must not stop scoring: the caller shows the warning (which names the
    file and the key) and scores without the checklist.
    """
    from coach.errors import DataFileError
    from coach.story.profile import load_story

    try:
        story = load_story()
    except DataFileError as exc:
        return None, f"warning: {exc} (the story checklist is left out)"
    if story is None or story.is_empty:
        return None, ""
    return check_coverage(category, answer, story), ""
