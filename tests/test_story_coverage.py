"""Spoken numbers and the per-answer story checklist, on typed and transcriber-style text."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from coach.spoken.matching import match_phrase
from coach.spoken.numbers import find_numbers, normalise
from coach.story import save_story
from coach.story.coverage import check_coverage
from tests.test_story_profile import FULL


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("twenty", 20),
        ("20", 20),
        ("thirty five", 35),
        ("thirty-five", 35),
        ("two hundred forty-five", 245),
        ("two hundred and forty five", 245),
        ("a hundred", 100),
        ("1,200", 1200),
        ("three thousand five hundred", 3500),
        ("twenty twenty-four", 2024),
        ("fourty two", 42),  # a transcriber's spelling
    ],
)
def test_spoken_and_written_numbers(said: str, value: int) -> None:
    found = find_numbers(f"I said {said} programs.")
    assert [n.value for n in found] == [value]
    assert f"I said {said} programs."[found[0].start : found[0].end] == said


def test_separate_numbers_stay_separate() -> None:
    text = "Sixteen programs, three interviews, step two, and my second attempt."
    found = [(n.value, n.ordinal) for n in find_numbers(text)]
    assert found == [(16, False), (3, False), (2, False), (2, True)]
    assert normalise("Two hundred forty-five on Step Two!") == "245 on step 2"


TYPED = (
    "Last cycle I applied only to Med-Peds, at twenty programs, and I did not match. Looking back "
    "with my advisor, my list was too narrow and I had no backup specialty. Since then I have "
    "worked as a clinical research coordinator, and I earned a new letter from a pediatrics "
    "attending."
)
# What the transcriber makes of the same answer: lower case, digits, misheard words.
ASR = (
    "last cycle i applied only to med peds at 20 programs and i didn't match looking back with "
    "my adviser my list was to narrow and i had no back up specialty since then i've worked as a "
    "clinical research coordinater and i earned a new letter from a pediatricks attending"
)


@pytest.mark.parametrize("answer", [TYPED, ASR], ids=["typed", "asr"])
def test_failed_match_coverage_in_typed_and_transcribed_answers(answer: str) -> None:
    cov = check_coverage("failed-match", answer, FULL)
    said = {p.point.id for p in cov.said}
    assert {"reason.0", "role", "letter.0", "programs", "must_say.1"} <= said
    assert [p.point.id for p in cov.not_said] == ["letter.1"]  # the IM letter was not mentioned
    assert cov.summary().startswith("said: reason: My list was too narrow")
    assert "not said: new letter: internal medicine attending" in cov.summary()
    role = next(p for p in cov.points if p.point.id == "role")
    assert "coordinat" in role.quote and role.quote in answer


def test_a_different_number_or_specialty_is_not_said() -> None:
    assert not match_phrase("20 programs", "I applied to thirty programs.").said
    assert match_phrase("20 programs", "i applied to twenty programs").said
    letter = match_phrase(
        "internal medicine attending", "a letter from my peds attending", require=("letter",)
    )
    assert not letter.said
    # The specialty without the word letter is not a letter.
    assert not match_phrase("pediatrics attending", "I love pediatrics", require=("letter",)).said


def test_gap_year_needs_role_and_months_said_any_way() -> None:
    for answer in (
        "For the past year I have worked as a research coordinator.",
        "i spent twelve months as a clinical research coordinator",
        "I have been a clinical research coordinator for 12 months.",
    ):
        cov = check_coverage("gap-year", answer, FULL)
        assert not cov.not_said, (answer, cov.summary())
    cov = check_coverage("gap-year", "I worked as a research coordinator for six months.", FULL)
    assert [p.point.id for p in cov.not_said] == ["months"]


def test_categories_without_needed_points_list_nothing_missing() -> None:
    cov = check_coverage("weakness", "I used to take on too much.", FULL)
    assert cov.not_said == () and cov.summary() == "no story points for this question"


def _score(*args: str, text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coach", "score", *args],
        input=text,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )


def test_score_json_has_a_story_key_only_when_a_story_exists() -> None:
    done = _score("--category", "failed-match", "--json", text=ASR)
    assert done.returncode == 0, done.stderr
    assert "story" not in json.loads(done.stdout)
    save_story(FULL)
    done = _score("--category", "failed-match", "--json", text=ASR)
    assert done.returncode == 0, done.stderr
    story = json.loads(done.stdout)["story"]
    assert story["category"] == "failed-match"
    assert "clinical research coordinator role" in story["said"]
    assert story["not_said"] == ["new letter: internal medicine attending"]
    plain = _score("--category", "failed-match", text=ASR)
    assert "Story: said: " in plain.stdout


def test_a_broken_story_warns_and_still_scores() -> None:
    from coach.story.profile import story_path

    story_path().write_text("[last_cycle]\nprograms = 'twenty'\n")
    done = _score("--category", "failed-match", "--json", text=ASR)
    assert done.returncode == 0
    assert "story" not in json.loads(done.stdout)
    line = done.stderr.strip()
    assert line.startswith("warning: ") and "key 'last_cycle.programs'" in line
    assert "Traceback" not in done.stderr


@pytest.mark.audio
@pytest.mark.slow
def test_coverage_and_consistency_on_real_transcripts(
    faster_engine: object, speech: object
) -> None:
    """espeak-ng speaks two answers, the embedded tiny.en transcribes them: the checklist finds
    the story points in the transcript and the number said as words clashes with the story."""
    from coach.audio.io import load_audio
    from coach.story.consistency import AnswerText, check_answers

    said = (
        "Last cycle I applied to twenty programs and did not match. My list was too narrow "
        "and I had no backup specialty. Since then I have worked as a clinical research "
        "coordinator, and I earned a new letter from a pediatrics attending."
    )
    backup = "Last year I applied to thirty five programs, so this year I am dual applying."
    texts = []
    for text in (said, backup):
        transcript = faster_engine.transcribe(load_audio(speech(text)))  # type: ignore[attr-defined,operator]
        texts.append(transcript.text)
    cov = check_coverage("failed-match", texts[0], FULL)
    said_ids = {p.point.id for p in cov.said}
    assert {"reason.0", "role", "letter.0", "programs"} <= said_ids, (texts[0], cov.summary())
    flags = check_answers(
        [AnswerText("failed-match answer", texts[0]), AnswerText("backup-plan answer", texts[1])]
    )
    assert [f.kind for f in flags] == ["programs"], (texts, flags)
    assert "35" in flags[0].second.quote or "thirty" in flags[0].second.quote.lower()
