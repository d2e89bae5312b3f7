"""Explainable rubric scoring of an answer (pure domain: no audio, no UI, no torch).

``from coach.scoring import score_answer`` is the public entry point; it is imported lazily
so that modules needing only the result types (``coach.scoring.report``) stay light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coach.scoring.scorer import score_answer

__all__ = ["score_answer"]


def __getattr__(name: str) -> Any:
    if name == "score_answer":
        from coach.scoring.scorer import score_answer

        return score_answer
    raise AttributeError(f"module 'coach.scoring' has no attribute {name!r}")
