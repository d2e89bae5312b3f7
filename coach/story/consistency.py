"""Consistency: the same story in every answer.

Programs notice when the failed-match answer says "twenty programs" and the backup answer says
"thirty-five", or when the year was research in one answer and scribing in another. This
module compares the facts of :mod:`coach.story.facts` between answers of a session (or recent
history) and with the saved story, and flags each contradiction kindly, with both quotes.

What counts as a contradiction (and what does not):

* Numbers (programs, interviews, months, scores, attempts) differ, beyond rounding when either
  side is hedged ("about twenty" and "22" agree). Programs and interviews are compared only
  within one cycle: last year's twenty and this year's forty-five never clash, and a number
  whose cycle cannot be told is not compared.
* The year's work: two answers name kinds of work with nothing in common.
* Specialties applied to in one cycle: one answer says "only Med-Peds" and another adds a
  specialty, or both name two or more and the lists differ.
* SOAP: entered in one answer, not entered in another.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from coach.story.facts import Fact, extract_facts
from coach.story.profile import StoryProfile

NUMERIC = ("programs", "interviews", "months", "score", "attempts")
_WHAT = {
    "programs": "the number of programs",
    "interviews": "the number of interviews",
    "months": "how long you have been in your role",
    "score": "your exam score",
    "attempts": "the attempt that passed",
    "role": "what you did this year",
    "specialties": "the specialties you applied to",
    "soap": "whether you took part in SOAP",
}


@dataclass(frozen=True, slots=True)
class AnswerText:
    """One answer to compare: a label for the flag ("failed-match answer") and its text."""

    label: str
    text: str
    attempt_id: int | None = None


@dataclass(frozen=True, slots=True)
class Said:
    """One side of a contradiction: where it was said and the words used."""

    source: str  # "failed-match answer", "your story"
    quote: str
    attempt_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "quote": self.quote, "attempt_id": self.attempt_id}


@dataclass(frozen=True, slots=True)
class ConsistencyFlag:
    """A contradiction, with both quotes and a kind sentence about what to do."""

    kind: str
    first: Said
    second: Said

    @property
    def message(self) -> str:
        return (
            f"In {_the(self.first.source)}: '{self.first.quote}'; in {_the(self.second.source)}: "
            f"'{self.second.quote}'. The two differ on {_WHAT.get(self.kind, self.kind)}; "
            "check which is accurate and say it the same way each time."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "first": self.first.to_dict(),
            "second": self.second.to_dict(),
            "message": self.message,
        }


def _the(source: str) -> str:
    """ "the failed-match answer", but "your story" and "this answer" as they are."""
    return source if source.startswith(("your ", "this ", "the ")) else f"the {source}"


def agree(a: Fact, b: Fact) -> bool:
    """True if two facts of the same kind, key and cycle can both be true."""
    if a.kind in NUMERIC:
        x, y = float(a.value), float(b.value)  # type: ignore[arg-type]
        if a.hedged or b.hedged:
            return abs(x - y) <= max(2.0, 0.2 * max(x, y))
        slack = 1.0 if a.kind == "months" else 0.0  # "eleven months" and "a year" are close
        return abs(x - y) <= slack
    return a.value == b.value


def _numeric_flags(
    fa: list[Fact], fb: list[Fact], sa: AnswerText, sb: AnswerText
) -> list[ConsistencyFlag]:
    flags: list[ConsistencyFlag] = []
    groups: dict[tuple[str, str, str], tuple[list[Fact], list[Fact]]] = {}
    for side, facts in ((0, fa), (1, fb)):
        for f in facts:
            if f.kind not in NUMERIC:
                continue
            if f.kind in ("programs", "interviews") and not f.frame:
                continue  # which cycle? unknown: never compared
            groups.setdefault((f.kind, f.key, f.frame), ([], []))[side].append(f)
    for (kind, _, _), (xs, ys) in groups.items():
        if not xs or not ys:
            continue
        for x in xs:
            if any(agree(x, y) for y in ys):
                continue
            y = next(y for y in ys if not any(agree(x2, y) for x2 in xs))
            flags.append(_flag(kind, x, y, sa, sb))
            break
    return flags


def _flag(kind: str, x: Fact, y: Fact, sa: AnswerText, sb: AnswerText) -> ConsistencyFlag:
    return ConsistencyFlag(
        kind, Said(sa.label, x.quote, sa.attempt_id), Said(sb.label, y.quote, sb.attempt_id)
    )


def _role_flags(
    fa: list[Fact], fb: list[Fact], sa: AnswerText, sb: AnswerText
) -> list[ConsistencyFlag]:
    ra = [f for f in fa if f.kind == "role"]
    rb = [f for f in fb if f.kind == "role"]
    if ra and rb and not ({f.value for f in ra} & {f.value for f in rb}):
        return [_flag("role", ra[0], rb[0], sa, sb)]
    return []


def _specialty_flags(
    fa: list[Fact], fb: list[Fact], sa: AnswerText, sb: AnswerText
) -> list[ConsistencyFlag]:
    flags: list[ConsistencyFlag] = []
    for frame in ("past", "current"):
        xs = [f for f in fa if f.kind == "specialties" and f.frame == frame]
        ys = [f for f in fb if f.kind == "specialties" and f.frame == frame]
        if not xs or not ys:
            continue
        found = _specialty_clash(xs, ys)
        if found is not None:
            flags.append(_flag("specialties", found[0], found[1], sa, sb))
    return flags


def _specialty_clash(xs: list[Fact], ys: list[Fact]) -> tuple[Fact, Fact] | None:
    sx: set[str] = set().union(*(f.value for f in xs))  # type: ignore[arg-type]
    sy: set[str] = set().union(*(f.value for f in ys))  # type: ignore[arg-type]
    for x in xs:
        if x.exclusive and sy - set(x.value):  # type: ignore[arg-type]
            return x, next(y for y in ys if set(y.value) - set(x.value))  # type: ignore[arg-type]
    for y in ys:
        if y.exclusive and sx - set(y.value):  # type: ignore[arg-type]
            return next(x for x in xs if set(x.value) - set(y.value)), y  # type: ignore[arg-type]
    if len(sx) >= 2 and len(sy) >= 2 and sx != sy:
        return xs[0], ys[0]
    return None


def _soap_flags(
    fa: list[Fact], fb: list[Fact], sa: AnswerText, sb: AnswerText
) -> list[ConsistencyFlag]:
    for x in (f for f in fa if f.kind == "soap"):
        for y in (f for f in fb if f.kind == "soap"):
            if x.value != y.value:
                return [_flag("soap", x, y, sa, sb)]
    return []


def compare_facts(
    fa: list[Fact], fb: list[Fact], sa: AnswerText, sb: AnswerText
) -> list[ConsistencyFlag]:
    """Every contradiction between two lists of facts (at most one per kind and key)."""
    return [
        *_numeric_flags(fa, fb, sa, sb),
        *_role_flags(fa, fb, sa, sb),
        *_specialty_flags(fa, fb, sa, sb),
        *_soap_flags(fa, fb, sa, sb),
    ]


def compare_answers(a: AnswerText, b: AnswerText) -> list[ConsistencyFlag]:
    """Contradictions between two answers."""
    return compare_facts(extract_facts(a.text), extract_facts(b.text), a, b)


def story_facts(story: StoryProfile) -> list[Fact]:
    """The story's own facts, in the same form as an answer's."""
    lc, s = story.last_cycle, story.since
    facts: list[Fact] = []
    if lc.programs is not None:
        facts.append(Fact("programs", "", float(lc.programs), f"{lc.programs} programs", "past"))
    if lc.interviews is not None:
        facts.append(
            Fact("interviews", "", float(lc.interviews), f"{lc.interviews} interviews", "past")
        )
    if lc.soap is not None:
        facts.append(Fact("soap", "", lc.soap, "took part in SOAP" if lc.soap else "no SOAP"))
    if lc.specialties:
        names: set[str] = set()
        for name in lc.specialties:
            for f in extract_facts(f"I applied to {name}.", default_frame="past"):
                if f.kind == "specialties":
                    names |= set(f.value)  # type: ignore[arg-type]
        if names:
            facts.append(
                Fact(
                    "specialties",
                    "",
                    frozenset(names),
                    "applied to " + ", ".join(lc.specialties),
                    "past",
                    exclusive=True,  # the story lists them all
                )
            )
    role_facts = [f for f in extract_facts(f"I have worked as a {s.role}.") if f.kind == "role"]
    facts.extend(Fact("role", "year", f.value, s.role) for f in role_facts)
    if s.months is not None:
        role = str(role_facts[0].value) if role_facts else "work"
        # The story was written some time ago; the months go on counting, hence "hedged".
        facts.append(Fact("months", role, float(s.months), f"{s.months} months", hedged=True))
    for exam in s.exams:
        for f in extract_facts(f"{exam.name} score of {exam.result}."):
            if f.kind == "score":
                facts.append(Fact("score", f.key, f.value, f"{exam.name}: {exam.result}"))
        if exam.attempts is not None:
            keys = [f.key for f in extract_facts(f"{exam.name} score of 250.") if f.kind == "score"]
            facts.append(
                Fact(
                    "attempts",
                    keys[0] if keys else "exam",
                    float(exam.attempts),
                    f"{exam.name}: passed on attempt {exam.attempts}",
                )
            )
    if story.backup_plan:
        facts.extend(
            f
            for f in extract_facts(story.backup_plan, default_frame="current")
            if f.kind == "specialties"
        )
    return facts


def check_answers(
    answers: Sequence[AnswerText], story: StoryProfile | None = None
) -> list[ConsistencyFlag]:
    """Contradictions among ``answers`` (in order) and between each answer and the story."""
    facts = [extract_facts(a.text) for a in answers]
    flags: list[ConsistencyFlag] = []
    for (i, a), (j, b) in combinations(enumerate(answers), 2):
        flags.extend(compare_facts(facts[i], facts[j], a, b))
    if story is not None and not story.is_empty:
        # One slip is one flag: when two answers already disagree on it, the flag with both
        # of the user's own quotes says it best, and the story's copy would only repeat it.
        shown = {(f.kind, q.quote) for f in flags for q in (f.first, f.second)}
        own = AnswerText("your story", "")
        sf = story_facts(story)
        for a, fa in zip(answers, facts, strict=True):
            flags.extend(
                f for f in compare_facts(sf, fa, own, a) if (f.kind, f.second.quote) not in shown
            )
    return _unique(flags)


def _unique(flags: Iterable[ConsistencyFlag]) -> list[ConsistencyFlag]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for f in flags:
        key = (f.kind, f.first.quote.lower(), f.second.quote.lower())
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
