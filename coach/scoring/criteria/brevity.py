"""brevity: length against the category's targets, sentences spent on the setback, and (for
a spoken answer) time against the question's limits."""

from __future__ import annotations

from coach.scoring.criteria import model
from coach.scoring.criteria.common import (
    TONE_LISTS,
    Context,
    Tally,
    align_words,
    costs_tone,
    finish,
    sentence_span,
    time_targets,
)
from coach.scoring.report import CriterionResult


def brevity(ctx: Context, weight: float) -> CriterionResult:
    spec = ctx.rubric.criteria["brevity"]
    cat = ctx.category
    a = ctx.analysis
    t = Tally()
    lo, hi = cat.words
    words = a.words
    word_cost = 0.0

    if words > hi:
        # Scaled like the spoken limits: nothing at the target's upper end, a failing cost
        # at the word count that would take the hard time limit to say.
        tmin, tmax, hard_s = time_targets(ctx)
        hard_words = max(hi + 10.0, hi * hard_s / max(tmax, 1.0))
        over = (words - hi) / (hard_words - hi)
        word_cost = min(spec.param("max_length_cost"), over * spec.param("length_cost_at_hard"))
        t.cost(word_cost, "too_long", words=words)
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
        word_cost = min(spec.param("max_short_cost"), short * spec.param("short_cost_per_unit"))
        t.cost(word_cost, "too_short", words=words)

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
        if costs_tone(ctx, name, m)
    }
    for k, i in enumerate(setback_sentences):
        s, e = sentence_span(ctx, i)
        if dwelling:
            t.evidence.append(ctx.ev(s, e, "-", "dwells on the setback"))
        elif k >= max_s:
            t.evidence.append(ctx.ev(s, e, "-", "one more sentence on the setback"))
        elif i not in toned and not model.flagged_at(ctx, s):
            t.evidence.append(ctx.ev(s, e, "+", "the setback stated briefly"))

    # Spoken answers: time against the question's targets.
    if ctx.transcript is not None:
        tmin, tmax, hard = time_targets(ctx)
        dur = ctx.transcript.duration_s
        # The word count above stands in for time in a typed answer; a spoken one that runs
        # long (or short) is charged once for it, by whichever of the two says more.
        if dur > hard:
            t.cost(
                max(0.0, spec.param("over_hard_limit_cost") - word_cost),
                "over_hard_limit",
                duration=round(dur),
            )
        elif dur > tmax:
            frac = (dur - tmax) / max(1.0, hard - tmax)
            extra = frac * spec.param("over_time_cost") - word_cost
            if extra > 0:
                t.cost(extra, "over_time", duration=round(dur))
        elif dur < tmin * 0.5 and spec.param("under_time_cost") > word_cost:
            t.cost(spec.param("under_time_cost") - word_cost, "under_time", duration=round(dur))
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
    tmin, tmax, hard = time_targets(ctx)
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
    return finish(spec, t, weight, good)
