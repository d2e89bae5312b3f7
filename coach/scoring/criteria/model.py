"""How the semantic layer's reading (coach.scoring.semantic) joins the phrase rules.

Phrase evidence stays where the model agrees or has no opinion. The model:
- drops a phrase credit whose sentence it reads as vague growth, filler or blame, with no sign
  of the credited point ("I just try to" is not a concrete step; "my advisor" is not what you
  did this year);
- credits a growth or content point the phrase lists missed, on the sentence that delivers it;
- ranks a point's phrase hits when it has more than it shows (:func:`support`), so the one shown
  is in the sentence that delivers the point;
- charges factual tone for a sentence it reads, with confidence, as blame, excuse, bitterness
  or defeat, and withholds praise from it; a less confident reading is said gently ("some
  interviewers may hear this as ...") at a small cost.
Every threshold comes from the head file, calibrated on the corpus's dev split, and is the
same in every category.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach.scoring.semantic import GROWTH_GROUPS, GROWTH_REASONS

if TYPE_CHECKING:
    from coach.scoring.criteria.common import Context
    from coach.scoring.phrases import Match
    from coach.scoring.semantic import Reading

#: Labels that contradict a credited point when the point's own label is absent.
_HOLLOW = ("vague_growth", "filler", "blame", "excuse")
_SUBSTANCE = ("lesson", "action", "plan", "strength")


def _label(ctx: Context, prefix: str, group_id: str) -> str | None:
    """The head label that delivers a rubric group, or None when the model has none."""
    if prefix == "growth_focus":
        for label, gid in GROWTH_GROUPS.items():
            if gid == group_id:
                return label
        return None
    return f"c:{ctx.category.id}:{group_id}"


def _point(ctx: Context, prefix: str, group_id: str) -> tuple[Reading, str] | None:
    """The answer's reading and the head label for a rubric group, or None when there is no
    reading or the head has no label for the group (the model then has no opinion)."""
    r = ctx.reading
    label = _label(ctx, prefix, group_id)
    if r is None or label is None or r.head.index(label) is None:
        return None
    return r, label


def keeps(ctx: Context, prefix: str, group_id: str, m: Match) -> bool:
    """False when the model reads the phrase's sentence as hollow for this point."""
    point = _point(ctx, prefix, group_id)
    if point is None:
        return True
    r, label = point
    k = r.segment_at(m.start, m.end)
    if k is None:
        return True
    # Any sign of substance in the sentence keeps the credit: the point itself, or a lesson,
    # an act, a plan or a strength (the phrase may have found a point the head reads under
    # another name).
    if max(r.p(k, lab) for lab in (label, *_SUBSTANCE)) >= r.t("keep_floor"):
        return True
    hollow = max(r.p(k, lab) for lab in _HOLLOW)
    return hollow < r.t("hollow")


def support(ctx: Context, prefix: str, group_id: str, m: Match) -> float:
    """How strongly the model reads the match's sentence as delivering the point (0 without a
    reading or a label for it): ranks phrase hits when a point has more than it can show."""
    point = _point(ctx, prefix, group_id)
    if point is None:
        return 0.0
    r, label = point
    k = r.segment_at(m.start, m.end)
    return 0.0 if k is None else r.p(k, label)


def credit(ctx: Context, prefix: str, group_id: str) -> tuple[int, int, str] | None:
    """The span and reason of the segment that best delivers a point the phrases missed."""
    point = _point(ctx, prefix, group_id)
    if point is None:
        return None
    r, label = point
    name = "growth_credit" if prefix == "growth_focus" else "content_credit"
    best = max(range(len(r.segments)), key=lambda k: r.p(k, label))
    if r.p(best, label) < r.t(name):
        return None
    # A sentence read as blame does not also earn a point.
    if r.tone(best)[0] >= r.t("tone_flag"):
        return None
    s = r.segments[best]
    reason = GROWTH_REASONS.get(label, "") if prefix == "growth_focus" else ""
    return s.start, s.end, reason


def reads(ctx: Context, group_id: str) -> bool:
    """Whether some sentence delivers the category's content point, as the model reads it
    (False without a reading or a label for the point)."""
    point = _point(ctx, "content", group_id)
    if point is None:
        return False
    r, label = point
    return any(r.p(k, label) >= r.t("content_credit") for k in range(len(r.segments)))


def tone_flags(ctx: Context) -> list[tuple[int, int, float, str]]:
    """Segments the model reads as costing tone: (start, end, risk, reason)."""
    r = ctx.reading
    if r is None or r.head.index("tone_risk") is None:
        return []
    out = []
    for k, s in enumerate(r.segments):
        risk, reason = r.tone(k)
        if risk >= r.t("tone_note"):
            out.append((s.start, s.end, risk, reason))
    return out


def flagged_at(ctx: Context, start: int) -> bool:
    """Whether the model reads the segment holding ``start`` as blame etc. with confidence."""
    r = ctx.reading
    if r is None or r.head.index("tone_risk") is None:
        return False
    k = r.segment_at(start, start + 1)
    return k is not None and r.tone(k)[0] >= r.t("tone_flag")
