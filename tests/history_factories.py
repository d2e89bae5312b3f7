"""Builders of scored answers for the history, store and export tests.

The reports are built directly (not by the scoring engine) so these tests pin the storage and
export behaviour on their own; one test in test_store.py also stores a real engine result.
"""

from __future__ import annotations

import re
import struct
import wave
from pathlib import Path

from coach.audio.transcript import Segment, Transcript, Word
from coach.scoring.report import AnswerStats, CriterionResult, Evidence, ScoreReport

ANSWER = (
    "I did not match in Med-Peds last year, and Dr. Okafor helped me see why. "
    "Since then I strengthened my application with research and took ownership of my mistakes."
)


def make_transcript(text: str = ANSWER, *, engine: str = "faster-whisper") -> Transcript:
    """A transcript with one word timing per word (0.4 s each)."""
    words = tuple(
        Word(round(i * 0.4, 3), round(i * 0.4 + 0.35, 3), (" " if i else "") + w, 0.9)
        for i, w in enumerate(text.split())
    )
    end = words[-1].end if words else 0.0
    return Transcript(
        text=text,
        segments=(Segment(0.0, end, text, words),),
        duration_s=round(end + 0.5, 3),
        engine=engine,
        model="tiny.en",
    )


def _span(text: str, phrase: str, effect: str, reason: str) -> Evidence:
    start = text.index(phrase)
    return Evidence(start, start + len(phrase), phrase, "+" if effect == "+" else "-", reason)


def make_report(
    text: str = ANSWER,
    *,
    question_id: str | None = "fm-explain-01",
    category: str = "failed-match",
    overall: float = 68.0,
    scores: dict[str, float] | None = None,
) -> ScoreReport:
    """A report with growth, tone and delivery criteria, and evidence spans into ``text``."""
    scores = scores or {"growth_focus": 75.0, "factual_tone": 60.0, "delivery": 70.0}
    criteria = []
    for cid, score in scores.items():
        evidence: tuple[Evidence, ...] = ()
        feedback = f"Feedback on {cid}."
        if cid == "growth_focus" and "took ownership" in text:
            evidence = (_span(text, "took ownership", "+", "owns the outcome"),)
            feedback = "You owned the result; Dr. Okafor's advice shows reflection."
        elif cid == "factual_tone" and (
            m := re.search(r"(?i)dr\.\s+okafor\S*(?: helped me)?", text)
        ):
            evidence = (_span(text, m.group(0), "-", "naming people distracts"),)
        criteria.append(
            CriterionResult(
                id=cid,
                name=cid.replace("_", " ").title(),
                score=score,
                passed=score >= 60,
                feedback=feedback,
                evidence=evidence,
            )
        )
    return ScoreReport(
        question_id=question_id,
        category=category,
        text=text,
        overall=overall,
        criteria=tuple(criteria),
        stats=AnswerStats(
            words=len(text.split()),
            sentences=2,
            duration_s=12.5,
            wpm=142.0,
            fillers=1,
            long_pauses=0,
            hedges=2,
        ),
        tips=("Keep it under a minute.", "End on what changed."),
    )


def make_wav(path: Path, seconds: float = 0.2) -> Path:
    """A short real WAV file (a quiet ramp) standing in for a recorded answer."""
    n = int(16000 * seconds)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"".join(struct.pack("<h", (i % 200) * 10) for i in range(n)))
    return path
