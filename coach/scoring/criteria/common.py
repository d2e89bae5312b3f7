"""What every criterion shares: the per-answer :class:`Context`, the running :class:`Tally`
of costs and credits, how a tally becomes a :class:`CriterionResult`, the tone rule that
brevity and factual_tone both use, and the grouped scoring of growth_focus and content."""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from coach.audio.transcript import Transcript
from coach.questions import Question
from coach.scoring.criteria import model
from coach.scoring.phrases import Match
from coach.scoring.report import CriterionResult, Effect, Evidence
from coach.scoring.rubric import CategorySpec, CriterionSpec, Group, Penalty, Rubric
from coach.scoring.semantic import Reading
from coach.scoring.subjects import describes_speaker
from coach.scoring.text import Analysis, stem

FIRST_PERSON = frozenset({"i", "my", "me", "myself", "mine"})
THIRD_PARTY = frozenset({"they", "them", "their", "he", "she"})
#: Costs below this many points do not change a passing criterion's praise into advice.
MINOR_ISSUE = 5.0


class _Fmt(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(template: str, **values: Any) -> str:
    return string.Formatter().vformat(template, (), _Fmt(values))


@dataclass
class Context:
    """Everything a criterion may look at, computed once per answer."""

    analysis: Analysis
    matches: list[Match]
    rubric: Rubric
    category: CategorySpec
    question: Question | None
    transcript: Transcript | None
    by_list: dict[str, list[Match]] = field(default_factory=dict)
    #: The semantic layer's reading of the answer; None when it is off (rules alone).
    reading: Reading | None = None

    def __post_init__(self) -> None:
        for m in self.matches:
            self.by_list.setdefault(m.list_id, []).append(m)

    def hits(self, list_id: str) -> list[Match]:
        return self.by_list.get(list_id, [])

    def ev(self, start: int, end: int, effect: Effect, reason: str) -> Evidence:
        return Evidence(start, end, self.analysis.text[start:end], effect, reason)

    def ev_match(self, m: Match, effect: Effect, reason: str) -> Evidence:
        return self.ev(m.start, m.end, effect, reason)


@dataclass
class Tally:
    """Running score with the costs and credits that explain it."""

    score: float = 100.0
    evidence: list[Evidence] = field(default_factory=list)
    issues: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)

    def cost(self, amount: float, key: str, **values: Any) -> None:
        self.score -= amount
        self.issues.append((amount, key, values))

    def main_issue(self) -> tuple[str, dict[str, Any]] | None:
        if not self.issues:
            return None
        _amount, key, values = max(self.issues, key=lambda x: x[0])
        return key, values


def finish(
    spec: CriterionSpec,
    tally: Tally,
    weight: float,
    good_values: dict[str, Any],
    cap: float | None = None,
) -> CriterionResult:
    score = max(0.0, min(100.0, tally.score))
    if cap is not None:
        score = min(score, cap)
    passed = score >= spec.threshold
    issue = tally.main_issue()
    # Praise only when nothing worth mentioning cost points; otherwise name the main issue,
    # so a passing answer that runs a little long still hears what to trim.
    minor = issue is None or max(amount for amount, _, _ in tally.issues) < MINOR_ISSUE
    if passed and minor:
        feedback = render(spec.template("good"), **good_values)
    elif issue is not None:
        key, values = issue
        feedback = render(spec.template(key), **{**good_values, **values})
    else:
        feedback = render(spec.template("weak"), **good_values)
    evidence = tuple(sorted(tally.evidence, key=lambda e: (e.start, e.end)))
    return CriterionResult(spec.id, spec.name, score, passed, feedback, evidence, weight)


def sentence_span(ctx: Context, index: int) -> tuple[int, int]:
    s = ctx.analysis.sentences[index]
    return s.start, s.end


def time_targets(ctx: Context) -> tuple[float, float, float]:
    if ctx.question is not None:
        q = ctx.question
        return float(q.target_min_s), float(q.target_max_s), float(q.hard_limit_s)
    lo, hi = ctx.category.target_s
    return lo, hi, ctx.category.hard_limit_s


#: factual_tone's phrase lists that cost points.
TONE_LISTS = ("blame", "excuses", "self_pity")


def costs_tone(ctx: Context, list_name: str, m: Match) -> bool:
    """Whether a hit on one of :data:`TONE_LISTS` costs factual_tone points: not negated, and
    not a judgement of the speaker's own behaviour ("I was dismissive of her concern"), which
    is ownership, not blame."""
    if m.negated:
        return False
    return not (list_name == "blame" and judges_self(ctx, m))


def judges_self(ctx: Context, m: Match) -> bool:
    """A judgement of character ("rude", "dismissive") that the speaker makes of themself:
    "I was dismissive of her concern" owns a mistake rather than blaming anyone."""
    words = word_set(ctx, "disparaging")
    judged = any(t.stem in words for t in ctx.analysis.tokens[m.tok_start : m.tok_end])
    return judged and describes_speaker(ctx.analysis, m.tok_start)


def word_set(ctx: Context, *names: str) -> frozenset[str]:
    """Stems of the words in the named factual_tone word lists."""
    lists = ctx.rubric.criteria["factual_tone"].lists
    return frozenset(stem(w.lower()) for name in names for w in lists.get(name, ()))


def group_score(
    ctx: Context, prefix: str, groups: Iterable[Group], t: Tally
) -> tuple[float, float, list[Group], set[str]]:
    earned = 0.0
    total = 0.0
    missing: list[Group] = []
    hit_ids: set[str] = set()
    for g in groups:
        total += g.weight
        hits = [
            m
            for m in ctx.hits(f"{prefix}:g:{g.id}")
            if not m.negated and model.keeps(ctx, prefix, g.id, m)
        ]
        for m in ctx.hits(f"{prefix}:g:{g.id}"):
            if m.negated:
                t.evidence.append(ctx.ev_match(m, "-", f"negated, so it does not show {g.label}"))
        # Distinct phrases count as separate hits, repeats of one phrase do not.
        distinct: dict[str, Match] = {}
        for m in hits:
            distinct.setdefault(m.phrase.lower(), m)
        n = min(len(distinct), g.max_hits)
        if n:
            hit_ids.add(g.id)
            earned += g.weight * n / g.max_hits
            # With more distinct hits than the point can show, show those in the sentences
            # the model reads as delivering it, and not a word inside another point's longer
            # phrase: "categorical internal medicine" is the honest strategy, not the "Peds"
            # of "I am applying to Med-Peds" (commitment). Ties keep the answer's order; the
            # count, so the score, is the same.
            shown = list(distinct.values())
            if len(shown) > g.max_hits:
                others = [
                    o
                    for h in groups
                    if h.id != g.id
                    for o in ctx.hits(f"{prefix}:g:{h.id}")
                    if not o.negated
                ]
                shown.sort(
                    key=lambda m: (
                        _inside(m, others),
                        -round(model.support(ctx, prefix, g.id, m), 2),
                    )
                )
            for m in shown[: g.max_hits]:
                t.evidence.append(ctx.ev_match(m, "+", g.label))
        elif (found := model.credit(ctx, prefix, g.id)) is not None:
            # A point the phrase lists missed, read from the sentence's meaning: counted as
            # one distinct hit, like one phrase.
            start, end, reason = found
            hit_ids.add(g.id)
            earned += g.weight / g.max_hits
            t.evidence.append(ctx.ev(start, end, "+", reason or g.label))
        else:
            missing.append(g)
    return earned, total, missing, hit_ids


def _inside(m: Match, others: list[Match]) -> bool:
    """Whether the match lies inside a longer match of another list."""
    return any(
        o.start <= m.start and m.end <= o.end and o.end - o.start > m.end - m.start for o in others
    )


def penalties(ctx: Context, prefix: str, penalties: Iterable[Penalty], t: Tally) -> float | None:
    cap: float | None = None
    for p in penalties:
        hits = ctx.hits(f"{prefix}:p:{p.id}")
        counted = 0
        for m in hits:
            if m.negated:
                continue
            if p.others_only and judges_self(ctx, m):
                continue
            t.evidence.append(ctx.ev_match(m, "-", p.reason))
            if counted < 2:
                t.cost(p.cost, f"penalty:{p.id}", phrase=m.phrase, feedback=p.feedback)
                counted += 1
        if counted and p.cap is not None:
            cap = p.cap if cap is None else min(cap, p.cap)
    return cap


def missing_label(missing: list[Group]) -> str:
    top = sorted(missing, key=lambda g: -g.weight)[:2]
    return " and ".join(g.label for g in top)


def grouped_result(
    spec: CriterionSpec,
    t: Tally,
    weight: float,
    earned: float,
    total: float,
    missing: list[Group],
    cap: float | None,
    share: float | None = None,
) -> CriterionResult:
    # Full marks need most, not all, of the elements: a strong answer rarely shows every one.
    if share is None:
        share = spec.params.get("full_credit_share", 1.0)
    base = min(100.0, 100.0 * earned / (total * share)) if total else 100.0
    penalty_total = 100.0 - t.score
    t.score = base - penalty_total
    if missing and base < 100.0:
        t.issues.append((100.0 - base, "missing", {"missing": missing_label(missing)}))
    result = finish(spec, t, weight, {"missing": missing_label(missing)}, cap)
    # Penalty feedback sentences are written per penalty in the rubric data.
    penalty_issues = [i for i in t.issues if i[1].startswith("penalty:") and i[2].get("feedback")]
    if penalty_issues and result.score < 85:
        worst = max(penalty_issues, key=lambda i: i[0])
        result = CriterionResult(
            result.id,
            result.name,
            result.score,
            result.passed,
            render(str(worst[2]["feedback"]), missing=missing_label(missing)),
            result.evidence,
            result.weight,
        )
    return result


def align_words(text: str, words: list[str]) -> list[tuple[int, int] | None]:
    """Character span of each transcript word in ``text``, searched left to right."""
    lower = text.lower()
    out: list[tuple[int, int] | None] = []
    cursor = 0
    for w in words:
        clean = w.strip().strip(string.punctuation + "’“”").lower()
        if not clean:
            out.append(None)
            continue
        idx = lower.find(clean, cursor)
        if idx < 0 or idx - cursor > 40 + len(clean) * 4:
            out.append(None)
            continue
        out.append((idx, idx + len(clean)))
        cursor = idx + len(clean)
    return out
