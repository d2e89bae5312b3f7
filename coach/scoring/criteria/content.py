"""content: the category's content groups, required points and the story a behavioural
question asks for."""

from __future__ import annotations

from dataclasses import replace

from coach.scoring.criteria import model
from coach.scoring.criteria.common import (
    Context,
    Tally,
    group_score,
    grouped_result,
    missing_label,
    penalties,
)
from coach.scoring.report import CriterionResult
from coach.scoring.subjects import past_tense_verbs


def content(ctx: Context, weight: float) -> CriterionResult:
    spec = ctx.rubric.criteria["content"]
    cat = ctx.category
    t = Tally()
    earned, total, missing, hit_ids = group_score(ctx, cat.id, cat.groups, t)
    cap = penalties(ctx, cat.id, cat.penalties, t)
    # A required point never made (a red flag never named), no story told or a penalty that
    # caps: fails the answer layer may not turn into passes. Too few points found ("generic")
    # is not among them: the phrases may simply have missed points the sentences deliver.
    firm = cap is not None
    below = spec.threshold - spec.param("miss_margin")
    required_missing = [g for g in cat.groups if g.required and g.id not in hit_ids]
    if required_missing:
        cap = below if cap is None else min(cap, below)
        firm = True
        t.issues.append((99.0, "missing", {"missing": missing_label(required_missing)}))
    if len(hit_ids) < cat.min_groups:
        cap = below if cap is None else min(cap, below)
        t.issues.append((98.0, "generic", {"missing": missing_label(missing)}))
    if cat.min_past_verbs and len(past_tense_verbs(ctx.analysis)) < cat.min_past_verbs:
        # A behavioural question asks for one real time it happened; an answer about what the
        # speaker usually does ("when there is a conflict I listen") stays generic however
        # many of the right words it uses.
        cap = below if cap is None else min(cap, below)
        firm = True
        t.issues.append((100.0, "no_story", {}))
    # A fail is only soft where the sentence layer, too, reads every required point in some
    # sentence: the phrase lists alone may match a red flag in words that do not name one
    # ("passed on the first try"), and a model pass must not rest on them.
    firm = firm or not all(model.reads(ctx, g.id) for g in cat.groups if g.required)
    result = grouped_result(spec, t, weight, earned, total, missing, cap, cat.full_credit_share)
    return replace(result, firm=firm) if firm else result
