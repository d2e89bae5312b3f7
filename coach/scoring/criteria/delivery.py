"""delivery (spoken answers only): pace, fillers, hedges and long pauses."""

from __future__ import annotations

from dataclasses import dataclass

from coach.scoring.criteria.common import Context, Tally, align_words, finish
from coach.scoring.report import CriterionResult


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
    t = Tally()
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
    return finish(spec, t, weight, good), stats
