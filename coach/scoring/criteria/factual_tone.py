"""factual_tone: blame, excuses, self-pity and venting cost points; first-person ownership
earns them."""

from __future__ import annotations

from collections.abc import Iterable

from coach.scoring.criteria import model
from coach.scoring.criteria.common import (
    FIRST_PERSON,
    THIRD_PARTY,
    Context,
    Tally,
    costs_tone,
    finish,
    word_set,
)
from coach.scoring.report import CriterionResult
from coach.scoring.sentiment import negative_valence, negative_words, sentence_compound
from coach.scoring.subjects import first_person_continuations, third_party_tokens


def factual_tone(ctx: Context, weight: float) -> CriterionResult:
    spec = ctx.rubric.criteria["factual_tone"]
    a = ctx.analysis
    t = Tally()
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
            if not costs_tone(ctx, list_name, m):
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

    charged = _model_tone(ctx, t)

    # Ownership: first-person statements of what you did, unless in a sentence the model
    # reads as blame ("I just try to keep my head down" after blaming the residents).
    owned = [
        m
        for m in ctx.hits("factual_tone:ownership")
        if not m.negated and not any(st <= m.start < en for st, en in charged)
    ]
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

    return finish(spec, t, weight, {})


def _model_tone(ctx: Context, t: Tally) -> list[tuple[int, int]]:
    """Charge the sentences the semantic layer reads as blame, excuse, bitterness or defeat
    that the phrase rules did not judge, and take back praise given inside them; return the
    spans charged with confidence."""
    spec = ctx.rubric.criteria["factual_tone"]
    ruled = list(t.evidence)
    flag_total = 0.0
    charged: list[tuple[int, int]] = []
    for start, end, risk, reason in model.tone_flags(ctx):
        # The rules already judged this sentence: charged it, or saw the blame negated ("I
        # don't blame the programs") or owned ("I was dismissive"), which embeddings miss.
        if any(start <= e.start < end for e in ruled):
            continue
        assert ctx.reading is not None
        if risk >= ctx.reading.t("tone_flag"):
            cost = (
                spec.param("model_flag_cost") if not flag_total else spec.param("model_more_cost")
            )
            if flag_total < spec.param("model_max_cost"):
                t.cost(cost, "model_tone", reason=reason)
                flag_total += cost
            t.evidence.append(ctx.ev(start, end, "-", reason))
            charged.append((start, end))
        else:
            t.cost(spec.param("model_note_cost"), "model_note", reason=reason)
            t.evidence.append(
                ctx.ev(start, end, "-", f"some interviewers may hear this as: {reason}")
            )
    # No "+" inside a sentence read as blame with confidence.
    t.evidence[:] = [
        e
        for e in t.evidence
        if e.effect == "-" or not any(st <= e.start < en for st, en in charged)
    ]
    return charged


def _others_feelings(ctx: Context, neutral: Iterable[str]) -> list[tuple[int, int]]:
    """Spans of negative words that describe another person, not the speaker, and do not
    disparage them ("the nurses were frustrated", "she feared losing her doctors")."""
    people = {m.tok_start: m.tok_end for m in ctx.hits("factual_tone:people")}
    theirs = third_party_tokens(ctx.analysis, people)
    if not theirs:
        return []
    disparaging = word_set(ctx, "disparaging", "mistreatment")
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
