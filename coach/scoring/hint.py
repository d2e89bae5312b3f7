"""One concrete rewrite hint for the sentence that cost the answer the most (issue 11, item 5).

The sentence is the span of the largest cost in the failing (or weakest) criterion among
factual_tone, growth_focus and content. The hint pairs it with the question's own material:
the sentence of the question's example answer that does what this one fails to do (states
the setback plainly and owns it, shows a concrete step, or delivers the missing point, as the
semantic head reads it), and the question's tip closest in meaning to that sentence.
Needs the semantic layer; without it there is no hint (the rubric feedback still says what
to add).
"""

from __future__ import annotations

import numpy as np

from coach.questions import Question
from coach.scoring.report import CriterionResult
from coach.scoring.segment import Segment, segments
from coach.scoring.semantic import Reading, embed_cached, features, product
from coach.scoring.text import analyse

#: What a better sentence does, per criterion, as head labels.
_WANTED = {
    "factual_tone": ("own_cause", "setback", "lesson"),
    "growth_focus": ("action", "lesson", "plan"),
    "content": (),  # filled with the category's content labels
}


def _clip(text: str, n: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def rewrite_hint(
    criteria: tuple[CriterionResult, ...], reading: Reading | None, question: Question | None
) -> str | None:
    """The hint, or None when nothing failed, or there is no question or semantic layer."""
    if reading is None or question is None or not question.example_answer.strip():
        return None
    judged = [c for c in criteria if c.id in _WANTED and not c.passed]
    if not judged:
        return None
    # A failing criterion with a charged sentence first (something to rewrite), else the
    # weakest one (something to add).
    charged = [c for c in judged if any(e.effect == "-" for e in c.evidence)]
    # Tone first: a sentence that blames is the one an interviewer remembers.
    tone = [c for c in charged if c.id == "factual_tone"]
    worst = tone[0] if tone else min(charged or judged, key=lambda c: c.score)
    minus = [e for e in worst.evidence if e.effect == "-"]
    bad = ""
    if minus:
        # The sentence holding the widest charged span (a whole sentence read by the model,
        # or a phrase), widened to its segment so the hint quotes what the speaker said.
        ev = max(minus, key=lambda e: e.end - e.start)
        k = reading.segment_at(ev.start, ev.end)
        bad = reading.segments[k].text if k is not None else ev.text

    from coach.scoring.encoder import get_encoder

    enc = get_encoder()
    example: list[Segment] = segments(analyse(question.example_answer))
    if not example:
        return None
    emb = embed_cached(enc, [s.text for s in example])
    probs = reading.head.probs(features(emb), [s.text for s in example])
    wanted = _WANTED[worst.id] or tuple(
        lab for lab in reading.head.labels if lab.startswith(f"c:{reading.category}:")
    )
    cols = [reading.head.index(lab) for lab in wanted]
    cols_ok = [c for c in cols if c is not None]
    if not cols_ok:
        return None
    best = int(np.argmax(probs[:, cols_ok].max(axis=1)))
    model_sentence = example[best].text
    tip = ""
    if question.tips:
        tips = embed_cached(enc, list(question.tips))
        tip = question.tips[int(np.argmax(product(tips, emb[best : best + 1])[:, 0]))]
    hint = f"Rewrite “{_clip(bad)}”" if bad else "Add one sentence"
    if tip:
        hint += f": {tip.rstrip('.')}."
    else:
        hint += "."
    return hint + f" For example: “{_clip(model_sentence, 160)}”"
