"""Spoken and typed answers get the same verdicts, with the semantic layer on (issue 11).

Twenty-eight typed answers of the corpus's test split (fourteen good, fourteen not) are synthesized with
espeak-ng, transcribed by the default engine, and scored as speech; each of the four text
criteria must decide the same as for the typed text in at least 95 % of the 112 decisions.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from coach.audio.io import load_audio
from coach.scoring import score_answer
from coach.scoring.corpus import load_corpus, load_split

pytestmark = [pytest.mark.audio, pytest.mark.slow]
CORPUS = Path(__file__).resolve().parents[1] / "corpus"
CRITERIA = ("brevity", "factual_tone", "growth_focus", "content")


def _answers() -> list[Any]:
    split = load_split(CORPUS / "split.toml")
    typed = sorted(
        (a for a in load_corpus(CORPUS) if split.get(a.id) == "test" and a.form == "typed"),
        key=lambda a: a.id,
    )
    good = [a for a in typed if a.label == "good"][:14]
    other = [a for a in typed if a.label != "good"][:14]
    return good + other


def test_spoken_answers_score_like_their_typed_text(
    speech: Callable[..., Path], faster_engine: Any
) -> None:
    answers = _answers()
    assert len(answers) == 28
    agree, total, differ = 0, 0, []
    for a in answers:
        typed = score_answer(a.text, category=a.category)
        transcript = faster_engine.transcribe(load_audio(speech(a.text)))
        spoken = score_answer(transcript.text, category=a.category, transcript=transcript)
        for cid in CRITERIA:
            t, s = typed.criterion(cid), spoken.criterion(cid)
            assert t is not None and s is not None
            total += 1
            if t.passed == s.passed:
                agree += 1
            else:
                differ.append(f"{a.id}:{cid} typed {t.score:.0f} spoken {s.score:.0f}")
    print(f"spoken vs typed: {agree}/{total} criterion decisions agree; differ: {differ}")
    assert total == 112
    assert agree / total >= 0.95, f"{agree}/{total} agree; differ: {differ}"
