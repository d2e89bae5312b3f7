"""The five criteria. Each returns a score (0-100), pass/fail, one kind feedback sentence and
the evidence spans that earned or cost points."""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from coach.audio.transcript import Transcript
from coach.questions import Question
from coach.scoring.phrases import Match
from coach.scoring.report import CriterionResult, Effect, Evidence
from coach.scoring.rubric import CategorySpec, CriterionSpec, Group, Penalty, Rubric
from coach.scoring.sentiment import negative_valence, negative_words, sentence_compound
from coach.scoring.subjects import (
    describes_speaker,
    first_person_continuations,
    past_tense_verbs,
    third_party_tokens,
)
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
class _Tally:
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


def _result(
    spec: CriterionSpec,
    tally: _Tally,
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


def _sentence_span(ctx: Context, index: int) -> tuple[int, int]:
    s = ctx.analysis.sentences[index]
    return s.start, s.end


def _time_targets(ctx: Context) -> tuple[float, float, float]:
    if ctx.question is not None:
        q = ctx.question
        return float(q.target_min_s), float(q.target_max_s), float(q.hard_limit_s)
    lo, hi = ctx.category.target_s
    return lo, hi, ctx.category.hard_limit_s


# -- brevity ---------------------------------------------------------------------------------


def brevity(ctx: Context, weight: float) -> CriterionResult:
    spec = ctx.rubric.criteria["brevity"]
    cat = ctx.category
    a = ctx.analysis
    t = _Tally()
    lo, hi = cat.words
    words = a.words

    if words > hi:
        # Scaled like the spoken limits: nothing at the target's upper end, a failing cost
        # at the word count that would take the hard time limit to say.
        tmin, tmax, hard_s = _time_targets(ctx)
        hard_words = max(hi + 10.0, hi * hard_s / max(tmax, 1.0))
        over = (words - hi) / (hard_words - hi)
        t.cost(
            min(spec.param("max_length_cost"), over * spec.param("length_cost_at_hard")),
            "too_long",
            words=words,
        )
        # Highlight what runs past the target length.
        tokens = a.tokens
        seen, cut = 0, None
        prev_start = -1
        for tok in tokens:
            if tok.start != prev_start:
                seen += 1
                prev_start = tok.start
            if seen > hi:
                cut = tok.start
                break
        if cut is not None:
            t.evidence.append(
                ctx.ev(cut, len(a.text.rstrip()), "-", f"beyond the ~{hi:.0f}-word target")
            )
    elif words < lo:
        short = (lo - words) / lo
        t.cost(
            min(spec.param("max_short_cost"), short * spec.param("short_cost_per_unit")),
            "too_short",
            words=words,
        )

    # Sentences that dwell on the setback without moving to growth or plan.
    growth_sentences = {
        m.sentence
        for g in ctx.rubric.criteria["growth_focus"].groups
        for m in ctx.hits(f"growth_focus:g:{g.id}")
        if not m.negated
    }
    setback_sentences = sorted(
        {m.sentence for m in ctx.hits("brevity:setback") if not m.negated} - growth_sentences
    )
    n_setback = len(setback_sentences)
    setback_tokens = sum(a.sentences[i].n_tokens for i in setback_sentences)
    share = setback_tokens / max(1, len(a.tokens))
    max_s = cat.max_setback_sentences
    dwelling = share > cat.setback_share_max and words >= 25
    if n_setback > max_s:
        t.cost(
            min(
                spec.param("max_dwell_cost"),
                (n_setback - max_s) * spec.param("extra_sentence_cost"),
            ),
            "too_many_setback_sentences",
            setback_sentences=n_setback,
        )
    if dwelling:
        t.cost(
            min(
                spec.param("max_dwell_cost"),
                (share - cat.setback_share_max) * spec.param("share_cost_per_unit"),
            ),
            "dwelling",
            setback_pct=round(share * 100),
        )
    # A setback sentence that blames, excuses or pities is never praised here, even when it
    # is brief: factual_tone marks what it costs, and a "+" beside it would read as approval.
    toned = {
        m.sentence
        for name in TONE_LISTS
        for m in ctx.hits(f"factual_tone:{name}")
        if _costs_tone(ctx, name, m)
    }
    for k, i in enumerate(setback_sentences):
        s, e = _sentence_span(ctx, i)
        if dwelling:
            t.evidence.append(ctx.ev(s, e, "-", "dwells on the setback"))
        elif k >= max_s:
            t.evidence.append(ctx.ev(s, e, "-", "one more sentence on the setback"))
        elif i not in toned:
            t.evidence.append(ctx.ev(s, e, "+", "the setback stated briefly"))

    # Spoken answers: time against the question's targets.
    if ctx.transcript is not None:
        tmin, tmax, hard = _time_targets(ctx)
        dur = ctx.transcript.duration_s
        if dur > hard:
            t.cost(spec.param("over_hard_limit_cost"), "over_hard_limit", duration=round(dur))
        elif dur > tmax:
            frac = (dur - tmax) / max(1.0, hard - tmax)
            t.cost(frac * spec.param("over_time_cost"), "over_time", duration=round(dur))
        elif dur < tmin * 0.5:
            t.cost(spec.param("under_time_cost"), "under_time", duration=round(dur))
        if dur > tmax:
            tw = ctx.transcript.words
            spans = align_words(a.text, [w.text for w in tw])
            late = next(
                (sp for w, sp in zip(tw, spans, strict=True) if w.start > tmax and sp), None
            )
            if late is not None:
                t.evidence.append(
                    ctx.ev(
                        late[0], len(a.text.rstrip()), "-", f"spoken after the {tmax:.0f} s target"
                    )
                )
    tmin, tmax, hard = _time_targets(ctx)
    good = {
        "words": words,
        "lo": round(lo),
        "hi": round(hi),
        "max_setback": max_s,
        "setback_sentences": n_setback,
        "target_max": round(tmax),
        "hard_limit": round(hard),
        "duration": round(ctx.transcript.duration_s) if ctx.transcript else "",
    }
    return _result(spec, t, weight, good)


# -- factual tone ----------------------------------------------------------------------------


def factual_tone(ctx: Context, weight: float) -> CriterionResult:
    spec = ctx.rubric.criteria["factual_tone"]
    a = ctx.analysis
    t = _Tally()
    flagged_sentences: set[int] = set()

    def penalise(list_name: str, key: str, reason: str) -> None:
        cost = spec.param(f"{list_name}_cost")
        total = 0.0
        for m in ctx.hits(f"factual_tone:{list_name}"):
            if m.negated:
                t.evidence.append(
                    ctx.ev_match(m, "+", "you set this aside rather than dwell on it")
                )
                t.score += spec.param("negated_credit")
                continue
            if not _costs_tone(ctx, list_name, m):
                t.evidence.append(ctx.ev_match(m, "+", "owns your part"))
                continue
            flagged_sentences.add(m.sentence)  # not counted again as venting
            if total >= spec.param("max_list_cost"):
                t.evidence.append(ctx.ev_match(m, "-", reason))
                continue
            t.cost(cost, key, phrase=m.phrase)
            total += cost
            t.evidence.append(ctx.ev_match(m, "-", reason))

    penalise("blame", "blame", "sounds like blaming programs, the Match or others")
    penalise("excuses", "excuses", "sounds like an excuse or defensiveness")
    penalise("self_pity", "self_pity", "sounds like self-pity")

    # Venting: a sentence the sentiment lexicon reads as clearly negative, once the plain facts
    # of the setback ("failed", "did not match") are set aside, and once other people's
    # feelings are: "the mother was angry and scared" is empathy in a conflict story, not the
    # speaker's venting. Words that disparage someone ("rude", "lazy") count whoever they
    # describe.
    threshold = spec.param("venting_compound")
    neutral = spec.lists.get("neutral_words", ())
    others = _others_feelings(ctx, neutral)
    vent_total = 0.0
    for i, s in enumerate(a.sentences):
        if i in flagged_sentences:
            continue
        skip = [(st, en) for st, en in others if s.start <= st < s.end]
        compound = sentence_compound(_without(a.text, s.start, s.end, skip), neutral)
        if compound <= threshold and vent_total < spec.param("max_list_cost"):
            # The stronger the feeling, the more it costs: from venting_cost at the threshold
            # up to venting_cost_max for the most negative sentences.
            depth = (threshold - compound) / max(1e-6, 1.0 + threshold)
            cost = spec.param("venting_cost") + depth * (
                spec.param("venting_cost_max") - spec.param("venting_cost")
            )
            vent_total += cost
            t.cost(cost, "venting")
            spans = [
                sp
                for sp in negative_words(
                    a, s.first_token, s.last_token, neutral, spec.param("negative_word_valence")
                )
                if sp not in skip
            ]
            if spans:
                for st, en in spans:
                    t.evidence.append(ctx.ev(st, en, "-", "strong negative feeling"))
            else:
                t.evidence.append(ctx.ev(s.start, s.end, "-", "this sentence reads as venting"))

    # Ownership: first-person statements of what you did.
    owned = [m for m in ctx.hits("factual_tone:ownership") if not m.negated]
    for m in owned[:3]:
        t.evidence.append(ctx.ev_match(m, "+", "owns the outcome in the first person"))
    t.score += min(spec.param("max_ownership_credit"), len(owned) * spec.param("ownership_credit"))
    n = max(1, len(a.tokens))
    # Verbs that carry on an "I" clause ("I pulled the team together, drafted a summary and
    # set up a visit") are first-person statements too.
    first = sum(1 for tok in a.tokens if tok.raw in FIRST_PERSON)
    first += len(first_person_continuations(a))
    third = sum(1 for tok in a.tokens if tok.raw in THIRD_PARTY)
    if len(a.tokens) >= 25 and (first / n < spec.param("min_first_person") or third > first):
        t.cost(spec.param("no_ownership_cost"), "no_ownership")

    return _result(spec, t, weight, {})


#: factual_tone's phrase lists that cost points.
TONE_LISTS = ("blame", "excuses", "self_pity")


def _costs_tone(ctx: Context, list_name: str, m: Match) -> bool:
    """Whether a hit on one of :data:`TONE_LISTS` costs factual_tone points: not negated, and
    not a judgement of the speaker's own behaviour ("I was dismissive of her concern"), which
    is ownership, not blame."""
    if m.negated:
        return False
    return not (list_name == "blame" and _judges_self(ctx, m))


def _judges_self(ctx: Context, m: Match) -> bool:
    """A judgement of character ("rude", "dismissive") that the speaker makes of themself:
    "I was dismissive of her concern" owns a mistake rather than blaming anyone."""
    words = _word_set(ctx, "disparaging")
    judged = any(t.stem in words for t in ctx.analysis.tokens[m.tok_start : m.tok_end])
    return judged and describes_speaker(ctx.analysis, m.tok_start)


def _word_set(ctx: Context, *names: str) -> frozenset[str]:
    """Stems of the words in the named factual_tone word lists."""
    lists = ctx.rubric.criteria["factual_tone"].lists
    return frozenset(stem(w.lower()) for name in names for w in lists.get(name, ()))


def _others_feelings(ctx: Context, neutral: Iterable[str]) -> list[tuple[int, int]]:
    """Spans of negative words that describe another person, not the speaker, and do not
    disparage them ("the nurses were frustrated", "she feared losing her doctors")."""
    people = {m.tok_start: m.tok_end for m in ctx.hits("factual_tone:people")}
    theirs = third_party_tokens(ctx.analysis, people)
    if not theirs:
        return []
    disparaging = _word_set(ctx, "disparaging", "mistreatment")
    a = ctx.analysis
    spans: list[tuple[int, int]] = []
    for k in sorted(theirs):
        tok = a.tokens[k]
        if tok.stem in disparaging or (tok.start, tok.end) in spans:
            continue
        if negative_valence(a.text[tok.start : tok.end], neutral) < 0:
            spans.append((tok.start, tok.end))
    return spans


def _without(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> str:
    """``text[start:end]`` with the given spans cut out."""
    if not spans:
        return text[start:end]
    parts: list[str] = []
    cursor = start
    for st, en in sorted(spans):
        parts.append(text[cursor:st])
        cursor = en
    parts.append(text[cursor:end])
    return "".join(parts)


# -- growth focus ----------------------------------------------------------------------------


def _group_score(
    ctx: Context, prefix: str, groups: Iterable[Group], t: _Tally
) -> tuple[float, float, list[Group], set[str]]:
    earned = 0.0
    total = 0.0
    missing: list[Group] = []
    hit_ids: set[str] = set()
    for g in groups:
        total += g.weight
        hits = [m for m in ctx.hits(f"{prefix}:g:{g.id}") if not m.negated]
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
            for m in list(distinct.values())[: g.max_hits]:
                t.evidence.append(ctx.ev_match(m, "+", g.label))
        else:
            missing.append(g)
    return earned, total, missing, hit_ids


def _penalties(ctx: Context, prefix: str, penalties: Iterable[Penalty], t: _Tally) -> float | None:
    cap: float | None = None
    for p in penalties:
        hits = ctx.hits(f"{prefix}:p:{p.id}")
        counted = 0
        for m in hits:
            if m.negated:
                continue
            if p.others_only and _judges_self(ctx, m):
                continue
            t.evidence.append(ctx.ev_match(m, "-", p.reason))
            if counted < 2:
                t.cost(p.cost, f"penalty:{p.id}", phrase=m.phrase, feedback=p.feedback)
                counted += 1
        if counted and p.cap is not None:
            cap = p.cap if cap is None else min(cap, p.cap)
    return cap


def _missing_label(missing: list[Group]) -> str:
    top = sorted(missing, key=lambda g: -g.weight)[:2]
    return " and ".join(g.label for g in top)


def _grouped_result(
    spec: CriterionSpec,
    t: _Tally,
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
        t.issues.append((100.0 - base, "missing", {"missing": _missing_label(missing)}))
    result = _result(spec, t, weight, {"missing": _missing_label(missing)}, cap)
    # Penalty feedback sentences are written per penalty in the rubric data.
    penalty_issues = [i for i in t.issues if i[1].startswith("penalty:") and i[2].get("feedback")]
    if penalty_issues and result.score < 85:
        worst = max(penalty_issues, key=lambda i: i[0])
        result = CriterionResult(
            result.id,
            result.name,
            result.score,
            result.passed,
            render(str(worst[2]["feedback"]), missing=_missing_label(missing)),
            result.evidence,
            result.weight,
        )
    return result


def growth_focus(ctx: Context, weight: float) -> CriterionResult:
    spec = ctx.rubric.criteria["growth_focus"]
    t = _Tally()
    expected = ctx.category.growth_groups
    groups = [g for g in spec.groups if not expected or g.id in expected]
    earned, total, missing, _ = _group_score(ctx, "growth_focus", groups, t)
    cap = _penalties(ctx, "growth_focus", spec.penalties, t)
    return _grouped_result(spec, t, weight, earned, total, missing, cap)


# -- content ---------------------------------------------------------------------------------


def content(ctx: Context, weight: float) -> CriterionResult:
    spec = ctx.rubric.criteria["content"]
    cat = ctx.category
    t = _Tally()
    earned, total, missing, hit_ids = _group_score(ctx, cat.id, cat.groups, t)
    cap = _penalties(ctx, cat.id, cat.penalties, t)
    below = spec.threshold - spec.param("miss_margin")
    required_missing = [g for g in cat.groups if g.required and g.id not in hit_ids]
    if required_missing:
        cap = below if cap is None else min(cap, below)
        t.issues.append((99.0, "missing", {"missing": _missing_label(required_missing)}))
    if len(hit_ids) < cat.min_groups:
        cap = below if cap is None else min(cap, below)
        t.issues.append((98.0, "generic", {"missing": _missing_label(missing)}))
    if cat.min_past_verbs and len(past_tense_verbs(ctx.analysis)) < cat.min_past_verbs:
        # A behavioural question asks for one real time it happened; an answer about what the
        # speaker usually does ("when there is a conflict I listen") stays generic however
        # many of the right words it uses.
        cap = below if cap is None else min(cap, below)
        t.issues.append((100.0, "no_story", {}))
    return _grouped_result(spec, t, weight, earned, total, missing, cap, cat.full_credit_share)


# -- delivery (spoken answers only) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeliveryStats:
    duration_s: float
    wpm: float
    fillers: int
    long_pauses: int
    hedges: int


def delivery(ctx: Context, weight: float) -> tuple[CriterionResult, DeliveryStats]:
    spec = ctx.rubric.criteria["delivery"]
    assert ctx.transcript is not None
    tr = ctx.transcript
    a = ctx.analysis
    t = _Tally()
    words = tr.words
    if words:
        speak_s = max(0.1, words[-1].end - words[0].start)
        n_words = len(words)
    else:
        speak_s = max(0.1, tr.duration_s)
        n_words = a.words
    minutes = speak_s / 60.0
    wpm = n_words / minutes if minutes > 0 else 0.0

    lo, hi = spec.param("wpm_min"), spec.param("wpm_max")
    if n_words >= spec.param("min_words_for_pace"):
        # Any pace outside the range is flagged (a base cost), and more so the further out.
        base, per = spec.param("pace_cost_base"), spec.param("pace_cost_per_wpm")
        if wpm < lo:
            t.cost(
                min(spec.param("max_pace_cost"), base + (lo - wpm) * per), "slow", wpm=round(wpm)
            )
        elif wpm > hi:
            t.cost(
                min(spec.param("max_pace_cost"), base + (wpm - hi) * per), "fast", wpm=round(wpm)
            )

    fillers = [m for m in ctx.hits("delivery:fillers")]
    n_fill = len(fillers)
    pct = 100.0 * n_fill / max(1, a.words)
    per_min = n_fill / max(minutes, 1e-6)
    for m in fillers:
        t.evidence.append(ctx.ev_match(m, "-", "filler word"))
    if n_fill and (
        pct > spec.param("filler_pct_max") or per_min > spec.param("fillers_per_min_max")
    ):
        t.cost(
            min(
                spec.param("max_filler_cost"),
                spec.param("filler_cost_base") + n_fill * spec.param("filler_cost_each"),
            ),
            "fillers",
            fillers=n_fill,
            filler_pct=round(pct, 1),
        )

    hedges = [m for m in ctx.hits("delivery:hedges") if not m.negated]
    for m in hedges:
        t.evidence.append(ctx.ev_match(m, "-", "hedging softens your point"))
    free = int(spec.param("free_hedges"))
    if len(hedges) > free:
        t.cost(
            min(spec.param("max_hedge_cost"), (len(hedges) - free) * spec.param("hedge_cost")),
            "hedges",
            hedges=len(hedges),
            phrase=hedges[0].phrase,
        )

    # Long pauses between consecutive words.
    spans = align_words(a.text, [w.text for w in words])
    pauses = 0
    limit = spec.param("long_pause_s")
    for k in range(1, len(words)):
        gap = words[k].start - words[k - 1].end
        if gap > limit:
            pauses += 1
            span = spans[k]
            if span is not None:
                t.evidence.append(ctx.ev(span[0], span[1], "-", f"{gap:.1f} s pause before this"))
    if pauses:
        t.cost(
            min(spec.param("max_pause_cost"), pauses * spec.param("pause_cost")),
            "pauses",
            pauses=pauses,
        )

    if not t.issues:
        t.evidence.append(
            ctx.ev(0, len(a.text.rstrip()), "+", f"steady pace of {wpm:.0f} words a minute")
        )
    stats = DeliveryStats(round(tr.duration_s, 2), round(wpm, 1), n_fill, pauses, len(hedges))
    good = {"wpm": round(wpm), "fillers": n_fill, "pauses": pauses, "hedges": len(hedges)}
    return _result(spec, t, weight, good), stats


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
