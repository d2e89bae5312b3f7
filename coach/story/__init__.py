"""My story: the applicant's facts, written once and checked in every answer.

Pure domain (no Textual): :mod:`.profile` (the TOML story), :mod:`.numbers` (spoken numbers),
:mod:`.matching` (transcript-robust phrase matching), :mod:`.coverage` (which story points an
answer said), :mod:`.facts` and :mod:`.lexicon` (the facts an answer states),
:mod:`.consistency` (contradictions between answers), :mod:`.pairs` (the labelled pairs that
measure it), :mod:`.followups` (follow-ups chosen from what was said), :mod:`.formfields` (the
app's form), :mod:`.readiness` (the interview-day summary) and :mod:`.sharing` (the story
checklist an export adds when asked).
"""

from coach.story.profile import (
    Exam,
    LastCycle,
    SinceThen,
    StoryProfile,
    dumps_story,
    load_story,
    save_story,
    story_path,
)

__all__ = [
    "Exam",
    "LastCycle",
    "SinceThen",
    "StoryProfile",
    "dumps_story",
    "load_story",
    "save_story",
    "story_path",
]
