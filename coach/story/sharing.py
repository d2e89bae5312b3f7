"""The story checklist for an export (``coach export --with-story``, the app's story toggle).

The story stays out of exports unless asked (issue 13). When asked, each exported answer gets
its coverage (:func:`coach.story.coverage.check_coverage`) and the consistency flags it is part
of: contradictions between the answers of the session, and with the story
(:func:`coach.story.consistency.check_answers`, as ``coach story --check`` finds them). Answers
outside the session are not compared: a mentor reads only this session.

Story points and the story's side of a flag are the applicant's own text, not an answer, so
the patient-detail guard must see them too (a letter "from Dr. Okafor" is a third party's
name even when no answer says it): :func:`guard_texts` lists them for
:func:`coach.guard.share.scan_texts`, and the exporter redacts what the guard found in the
whole checklist exactly as in the answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from coach.errors import CoachError
from coach.story.consistency import AnswerText, check_answers
from coach.story.coverage import check_coverage
from coach.story.profile import StoryProfile

if TYPE_CHECKING:
    from coach.store import Attempt, Store

#: Per attempt id: the coverage dict and the flag dicts (``coach.export.StoryNotes``).
SessionStory = dict[int, tuple[dict[str, Any], list[dict[str, Any]]]]
_OWN = "your story"


def answer_label(a: Attempt) -> str:
    """``failed-match answer (fm-explain-01)``: how a flag names an answer (as ``story --check``)."""
    return f"{a.category} answer" + (f" ({a.question_id})" if a.question_id else "")


def session_story(attempts: Sequence[Attempt], story: StoryProfile) -> SessionStory:
    """The checklist and flags of each attempt, keyed by attempt id (a flag between two answers
    is listed under both)."""
    flags = check_answers([AnswerText(answer_label(a), a.text, a.id) for a in attempts], story)
    out: SessionStory = {}
    for a in attempts:
        mine = [f.to_dict() for f in flags if a.id in (f.first.attempt_id, f.second.attempt_id)]
        out[a.id] = (check_coverage(a.category, a.text, story).to_dict(), mine)
    return out


def guard_texts(
    notes: Mapping[int, tuple[dict[str, Any], Sequence[dict[str, Any]]]],
) -> list[tuple[int, str]]:
    """``(attempt_id, text)`` for every piece of the story itself the export would show: point
    labels and the story's side of flags. Quotes from answers are left out (the guard already
    reads the answers; scanning them twice would count each finding twice)."""
    out: dict[tuple[int, str], None] = {}
    for attempt_id, (coverage, flags) in notes.items():
        for p in coverage["points"]:
            out.setdefault((attempt_id, str(p["label"])), None)
        for f in flags:
            for side in (f["first"], f["second"]):
                if side["source"] == _OWN:
                    out.setdefault((attempt_id, str(side["quote"])), None)
    return list(out)


def load_session_story(store: Store, session_id: int | str) -> SessionStory:
    """The checklist of every answer of a session from the saved story.

    Raises CoachError when there is no story to add (the user asked for it) and DataFileError
    (naming the file and key) when the story file is invalid.
    """
    from coach.story.profile import load_story, story_path

    story = load_story()
    if story is None or story.is_empty:
        raise CoachError(
            f"there is no story to add ({story_path()} is missing or empty)",
            "write it first (My story in the app, or `coach story --init`), or export without it",
        )
    session = store.resolve_session(session_id)
    return session_story(store.attempts(session_id=session.id), story)
