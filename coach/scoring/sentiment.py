"""Venting and self-pity detection with the VADER sentiment lexicon.

VADER is loaded once, lazily, on the first spoken or typed answer that needs it. The plain
facts of a reapplicant's story ("failed", "did not match", "mistake") are removed from its
lexicon first: naming a setback is not venting, dwelling on how unfair it felt is.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from coach.scoring.text import Analysis

_ANALYZERS: dict[tuple[str, ...], Any] = {}


def _analyzer(neutral: Iterable[str]) -> Any:
    key = tuple(sorted({w.lower() for w in neutral}))
    found = _ANALYZERS.get(key)
    if found is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        found = SentimentIntensityAnalyzer()
        for word in key:
            found.lexicon.pop(word, None)
        if len(_ANALYZERS) > 4:
            _ANALYZERS.clear()
        _ANALYZERS[key] = found
    return found


def sentence_compound(sentence: str, neutral: Iterable[str]) -> float:
    """VADER's compound score (-1..1) of one sentence, facts of the setback excluded."""
    return _compound(sentence, tuple(neutral))


@lru_cache(maxsize=4096)
def _compound(sentence: str, neutral: tuple[str, ...]) -> float:
    return float(_analyzer(neutral).polarity_scores(sentence)["compound"])


def negative_valence(word: str, neutral: Iterable[str]) -> float:
    """The lexicon's valence of one word (0.0 when it carries none)."""
    return float(_lexicon(tuple(neutral)).get(word.lower(), 0.0))


@lru_cache(maxsize=8)
def _lexicon(neutral: tuple[str, ...]) -> dict[str, float]:
    lexicon: dict[str, float] = _analyzer(neutral).lexicon
    return lexicon


def negative_words(
    analysis: Analysis, first: int, last: int, neutral: Iterable[str], valence: float
) -> list[tuple[int, int]]:
    """Spans of the clearly negative words in tokens ``[first, last)``."""
    lexicon = _analyzer(neutral).lexicon
    spans: list[tuple[int, int]] = []
    for tok in analysis.tokens[first:last]:
        value = lexicon.get(analysis.text[tok.start : tok.end].lower())
        if value is not None and value <= valence and (tok.start, tok.end) not in spans:
            spans.append((tok.start, tok.end))
    return spans
