"""growth_focus: the growth groups the category expects, less its penalties."""

from __future__ import annotations

from coach.scoring.criteria.common import Context, Tally, group_score, grouped_result, penalties
from coach.scoring.report import CriterionResult


def growth_focus(ctx: Context, weight: float) -> CriterionResult:
    spec = ctx.rubric.criteria["growth_focus"]
    t = Tally()
    expected = ctx.category.growth_groups
    groups = [g for g in spec.groups if not expected or g.id in expected]
    earned, total, missing, _ = group_score(ctx, "growth_focus", groups, t)
    cap = penalties(ctx, "growth_focus", spec.penalties, t)
    return grouped_result(spec, t, weight, earned, total, missing, cap)
