"""Sentence-like segments for the semantic layer, with character spans for evidence.

Typed answers are cut at sentence punctuation (``text.analyse`` does that); a typed sentence
that runs on past :data:`MAX_TOKENS` words is cut again at a clause break or discourse marker
near its middle, so one clause of blame is not diluted by three of plans. Transcripts without
punctuation arrive from ``analyse`` as pseudo-sentences cut at discourse markers and length
(10-24 words) for the phrase rules; here the whole transcript is cut again, preferring discourse
markers, to the grain the corpus's ASR answers are labelled at (6-35 words).
"""

from __future__ import annotations

from dataclasses import dataclass

from coach.scoring.text import Analysis

#: A segment longer than this many tokens is cut in two.
MAX_TOKENS = 30
#: Neither half of a cut is shorter than this.
MIN_TOKENS = 6
#: Words a new clause often starts with, when there is no comma to cut at.
MARKERS = frozenset(
    {
        "so",
        "but",
        "and",
        "since",
        "now",
        "then",
        "because",
        "although",
        "though",
        "which",
        "while",
        "after",
        "honestly",
        "looking",
        "this",
    }
)


@dataclass(frozen=True, slots=True)
class Segment:
    start: int  # character span in the answer text
    end: int
    text: str
    sentence: int  # index of the Analysis sentence it belongs to


def _cut(a: Analysis, first: int, last: int) -> list[tuple[int, int]]:
    n = last - first
    if n <= MAX_TOKENS:
        return [(first, last)]
    mid = first + n // 2
    best: tuple[float, int] | None = None
    for k in range(first + MIN_TOKENS, last - MIN_TOKENS + 1):
        tok = a.tokens[k]
        if tok.start == a.tokens[k - 1].start:  # inside a contraction ("did|not")
            continue
        weight = 0.0 if tok.brk else 0.5 if tok.raw in MARKERS else None
        # "since then", "and then", "so now": the pair opens the clause, cut before both.
        if weight is None or (not tok.brk and a.tokens[k - 1].raw in MARKERS):
            continue
        score = weight + abs(k - mid) / n
        if best is None or score < best[0]:
            best = (score, k)
    if best is None:  # nothing to cut at: the middle word boundary
        k = mid
        while k < last - 1 and a.tokens[k].start == a.tokens[k - 1].start:
            k += 1
        best = (0.0, k)
    k = best[1]
    return _cut(a, first, k) + _cut(a, k, last)


def segments(a: Analysis) -> list[Segment]:
    """The answer's segments in order, covering every token once."""
    out: list[Segment] = []
    if not a.punctuated and a.tokens:
        # A transcript: analyse's pseudo-sentences are cut by length for the phrase rules;
        # here the whole stretch is cut again, preferring discourse markers.
        for first, last in _cut(a, 0, len(a.tokens)):
            start, end = a.tokens[first].start, a.tokens[last - 1].end
            out.append(Segment(start, end, a.text[start:end], a.tokens[first].sentence))
        return out
    for i, s in enumerate(a.sentences):
        for first, last in _cut(a, s.first_token, s.last_token):
            start, end = a.tokens[first].start, a.tokens[last - 1].end
            # Keep the closing punctuation with the segment that ends the sentence.
            if last == s.last_token:
                end = max(end, s.end)
                while end < len(a.text) and a.text[end] in ".!?\"”'’)":
                    end += 1
            out.append(Segment(start, end, a.text[start:end], i))
    return out
