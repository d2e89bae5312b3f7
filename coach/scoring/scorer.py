"""``score_answer``: the rubric verdict on one answer, typed or spoken.

Pure domain code: it imports neither torch nor Whisper (a spoken answer arrives as an already
made :class:`~coach.audio.transcript.Transcript`), so ``coach score`` starts fast.
"""

from __future__ import annotations

import numpy as np

from coach.audio.transcript import Transcript
from coach.datafile import did_you_mean
from coach.errors import CoachError
from coach.questions import CATEGORIES, Question
from coach.scoring import criteria as crit
from coach.scoring import decide
from coach.scoring.decide import Decider
from coach.scoring.hint import rewrite_hint
from coach.scoring.report import AnswerStats, CriterionResult, ScoreReport
from coach.scoring.rubric import Rubric, load_rubric
from coach.scoring.semantic import Head, read_answer
from coach.scoring.text import analyse


def resolve_category(question: Question | None, category: str | None) -> str:
    """The category to score against, or a CoachError that says how to fix the call."""
    if question is not None:
        if category is not None and category != question.category:
            raise CoachError(
                f"question '{question.id}' is in category '{question.category}', not '{category}'",
                "give either the question or the category, not both",
            )
        category = question.category
    if category is None:
        raise CoachError(
            "no question or category to score against",
            "pass --question ID or --category CAT (see `coach questions`)",
        )
    if category not in CATEGORIES:
        raise CoachError(f"unknown category '{category}'", did_you_mean(category, CATEGORIES))
    return category


def score_answer(
    text: str,
    *,
    question: Question | None = None,
    category: str | None = None,
    transcript: Transcript | None = None,
    rubric: Rubric | None = None,
    semantic: bool = True,
    head: Head | None = None,
    decider: Decider | bool | None = True,
    features_out: list[np.ndarray] | None = None,
) -> ScoreReport:
    """Score one answer against its category's rubric.

    ``transcript`` (from a spoken answer) adds the ``delivery`` criterion and the answer's
    duration to ``brevity``. ``semantic=False`` scores on the phrase rules alone (the
    semantic layer is also off, said once on stderr, when its encoder cannot load); ``head``
    replaces the shipped semantic head (training calibrates with it). ``decider`` is the
    answer-level layer (coach.scoring.decide): True for the shipped one, False for none, or
    one being trained; ``features_out`` receives the answer's features for it. Raises :class:`CoachError` for an empty answer or an unknown
    category.
    """
    cat_id = resolve_category(question, category)
    if not text.strip():
        raise CoachError(
            "the answer is empty", "type an answer, or record one and check the microphone"
        )
    rubric = rubric or load_rubric()
    cat = rubric.category(cat_id)
    analysis = analyse(text)
    if not analysis.tokens:
        raise CoachError("the answer has no words", "type or say a full answer")
    matches = rubric.matcher.find(analysis)
    reading = read_answer(analysis, cat_id, head) if semantic else None
    ctx = crit.Context(analysis, matches, rubric, cat, question, transcript, reading=reading)

    def w(cid: str) -> float:
        return cat.weights.get(cid, 1.0)

    results: list[CriterionResult] = [
        crit.brevity(ctx, w("brevity")),
        crit.factual_tone(ctx, w("factual_tone")),
        crit.growth_focus(ctx, w("growth_focus")),
        crit.content(ctx, w("content")),
    ]
    if reading is not None and (decider is not False or features_out is not None):
        x = decide.features({r.id: r for r in results}, reading, analysis.words, rubric)
        if features_out is not None:
            features_out.append(x)
        layer = decide.get() if decider is True else decider or None
        if layer is not None:
            results = layer.apply(results, x, rubric, reading)
    stats = AnswerStats(words=analysis.words, sentences=len(analysis.sentences))
    if transcript is not None:
        result, d = crit.delivery(ctx, w("delivery"))
        results.append(result)
        stats = AnswerStats(
            words=analysis.words,
            sentences=len(analysis.sentences),
            duration_s=d.duration_s,
            wpm=d.wpm,
            fillers=d.fillers,
            long_pauses=d.long_pauses,
            hedges=d.hedges,
        )
    tips = question.tips if question else ()
    # The sentence that cost the most, with one concrete rewrite drawn from the question's
    # own tips and example answer, goes first among the tips (shown and saved with them).
    hint = rewrite_hint(tuple(results), reading, question)
    if hint:
        tips = (hint, *tips)
    total_w = sum(r.weight for r in results)
    overall = sum(r.score * r.weight for r in results) / total_w if total_w else 0.0
    return ScoreReport(
        question_id=question.id if question else None,
        category=cat_id,
        text=text,
        overall=overall,
        criteria=tuple(results),
        stats=stats,
        tips=tips,
    )
