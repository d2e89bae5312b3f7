"""The five criteria, one module each. Each returns a score (0-100), pass/fail, one kind
feedback sentence and the evidence spans that earned or cost points."""

from __future__ import annotations

from coach.scoring.criteria.brevity import brevity
from coach.scoring.criteria.common import Context, align_words, render
from coach.scoring.criteria.content import content
from coach.scoring.criteria.delivery import DeliveryStats, delivery
from coach.scoring.criteria.factual_tone import factual_tone
from coach.scoring.criteria.growth_focus import growth_focus

__all__ = [
    "Context",
    "DeliveryStats",
    "align_words",
    "brevity",
    "content",
    "delivery",
    "factual_tone",
    "growth_focus",
    "render",
]
