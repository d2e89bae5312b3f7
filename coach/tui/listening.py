"""Follow-ups that listen, in a mock interview: after a main answer, the planned follow-up is
replaced by the one its answer calls for (:func:`coach.followups.choose_followup`).

The plan is drawn before the interview starts, with a follow-up picked at random from the
bank's fixed list; once the main answer is in, this swaps that follow-up's text for the rule's
question (keeping its timings), or leaves it as planned when no rule fires.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from coach.core.plan import PlanItem
from coach.errors import CoachError
from coach.followups import choose_followup
from coach.questions import Question


def listen(
    follow_up: PlanItem,
    main: Question,
    answer: str,
    get: Callable[[str], Question] | None = None,
) -> PlanItem:
    """``follow_up`` with the question ``answer`` calls for, or unchanged."""
    if follow_up.follow_up_of != main.id or not main.followup_rules:
        return follow_up

    def lookup(question_id: str) -> Question | None:
        if get is None:
            return None
        try:
            return get(question_id)
        except CoachError:
            return None

    choice = choose_followup(main, answer, lookup)
    if choice is None:
        return follow_up
    return replace(follow_up, question=replace(follow_up.question, text=choice.text))
