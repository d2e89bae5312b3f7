"""Word lists of the story facts: hedges, cycle cues, units, kinds of work, specialties.

Kept apart from :mod:`coach.story.facts` so the rules read on their own; all words are lower
case with apostrophes removed ("didnt"), the form the fact extractor compares.
"""

from __future__ import annotations

HEDGES = frozenset({"about", "around", "roughly", "approximately", "nearly", "almost", "over"})
HEDGE_PAIRS = (("close", "to"), ("more", "than"), ("less", "than"), ("fewer", "than"))
PAST_CUES = (
    ("last", "year"),
    ("last", "cycle"),
    ("last", "time"),
    ("last", "round"),
    ("previous",),
    ("previously",),
    ("first", "time"),
    ("didnt", "match"),
    ("did", "not", "match"),
)
CURRENT_CUES = (
    ("this", "year"),
    ("this", "cycle"),
    ("this", "time"),
    ("this", "round"),
    ("so", "far"),
    ("currently",),
    ("reapplying",),
    ("am", "applying"),
    ("im", "applying"),
)
UNIT_SKIP = frozenset(
    [
        "more",
        "med",
        "peds",
        "medpeds",
        "medicine",
        "pediatrics",
        "pediatric",
        "internal",
        "categorical",
        "community",
        "academic",
        "different",
        "residency",
        "total",
        "other",
        "new",
        "full",
        "time",
    ]
)
PROGRAM_NOUNS = frozenset({"programs", "program", "programmes", "places", "applications"})
INTERVIEW_NOUNS = frozenset({"interviews", "interview", "invitations", "invites"})
WORK_CUES = frozenset(
    [
        "worked",
        "working",
        "work",
        "job",
        "position",
        "role",
        "been",
        "employed",
        "hired",
        "fulltime",
        "spent",
        "held",
        "scribed",
        "scribing",
    ]
)
EARLIER_LIFE = (
    ("before", "medical", "school"),
    ("in", "college"),
    ("undergrad",),
    ("high", "school"),
)
#: Kinds of work a reapplicant's year is made of, found by these words.
ROLE_WORDS: dict[str, str] = {
    "research": "research",
    "researcher": "research",
    "scribe": "scribe",
    "scribing": "scribe",
    "scribed": "scribe",
    "navigator": "navigator",
    "tutor": "teaching",
    "tutoring": "teaching",
    "instructor": "teaching",
    "mph": "public health",
    "emt": "emt",
    "paramedic": "emt",
}
ROLE_PAIRS: dict[tuple[str, str], str] = {
    ("medical", "assistant"): "medical assistant",
    ("teaching", "assistant"): "teaching",
    ("public", "health"): "public health",
}
SPECIALTY_PAIRS: dict[tuple[str, str], str] = {
    ("med", "peds"): "Med-Peds",
    ("medicine", "pediatrics"): "Med-Peds",
    ("internal", "medicine"): "internal medicine",
    ("categorical", "medicine"): "internal medicine",
    ("family", "medicine"): "family medicine",
    ("med", "pete"): "Med-Peds",
}
SPECIALTY_WORDS: dict[str, str] = {
    "medpeds": "Med-Peds",
    "pediatrics": "pediatrics",
    "peds": "pediatrics",
    "preliminary": "preliminary",
    "prelim": "preliminary",
    "transitional": "preliminary",
}
#: After "research", these make it the year's work ("research coordinator", "research job").
RESEARCH_ROLE_NOUNS = frozenset(
    {
        "coordinator",
        "assistant",
        "fellow",
        "fellowship",
        "associate",
        "job",
        "position",
        "role",
        "year",
        "studies",
        "technician",
        "coordinating",
    }
)
#: Words that start a new clause: a specialty list ends before them.
CLAUSE_SUBJECTS = frozenset({"i", "im", "ive", "id", "we", "my", "she", "he", "they"})
