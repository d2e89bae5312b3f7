"""Interview questions: the typed record. Loading and validation are added below it."""

from __future__ import annotations

from dataclasses import dataclass

CATEGORIES: tuple[str, ...] = (
    "failed-match",
    "why-med-peds",
    "why-this-program",
    "backup-plan",
    "red-flag",
    "gap-year",
    "tell-me-about-yourself",
    "weakness",
    "conflict",
    "mistake",
    "teamwork",
)


@dataclass(frozen=True, slots=True)
class Question:
    """One interview prompt with its timing targets and coaching material."""

    id: str
    category: str
    text: str
    follow_ups: tuple[str, ...]
    think_s: int  # think time before answering
    target_min_s: int  # answer-time target, lower end
    target_max_s: int  # answer-time target, upper end
    hard_limit_s: int  # stop / hard warning
    tips: tuple[str, ...]
    pitfalls: tuple[str, ...]
    example_answer: str
    subtopic: str = ""  # e.g. red-flag: exam-failure, gap, professionalism, extended-timeline
    source: str = "built-in"  # or the user's TOML file path
