"""Pure functions that join the decodes of neighbouring windows without losing or doubling words.

Windows after a forced cut (a speaker who never paused) share audio with the previous one; the
words of that shared stretch are kept from one side of a border only (:func:`merge_overlap`).
Nothing here has state, threads or a clock.
"""

from __future__ import annotations

import re
from dataclasses import replace

from coach.audio.protocol import SAMPLE_RATE
from coach.audio.transcript import Segment, Word

_NORM = re.compile(r"[^\w']+")


def _norm(word: str) -> str:
    return _NORM.sub("", word.lower())


def _segment_from_words(seg: Segment, words: tuple[Word, ...]) -> Segment:
    text = " ".join(w.text.strip() for w in words)
    return replace(seg, start=words[0].start, end=words[-1].end, text=text, words=words)


def merge_overlap(
    left: list[Segment],
    right: list[Segment],
    boundary_s: float,
    overlap: tuple[float, float] | None = None,
) -> tuple[list[Segment], list[Segment]]:
    """Resolve the overlap of two decodes that share audio around ``boundary_s``.

    Words whose middle lies before the boundary are kept from ``left``, the others from
    ``right``; a word repeated exactly across the border (same text, overlapping in time) is
    kept once. Segments without word timings are kept or dropped whole by their middle.

    With ``overlap`` (the shared stretch, in seconds), the border moves to a word both decodes
    agree on (same text, same place), the one nearest the middle: each decode is least
    reliable near its own edge, where a word may be cut in half, and an agreed word is where
    they meet without guessing.
    """
    if overlap is not None:
        agreed = _agreed_border(left, right, overlap, boundary_s)
        if agreed is not None:
            boundary_s = agreed

    def keep(segs: list[Segment], before: bool) -> list[Segment]:
        out: list[Segment] = []
        for seg in segs:
            if not seg.words:
                mid = (seg.start + seg.end) / 2
                if (mid < boundary_s) == before:
                    out.append(seg)
                continue
            words = tuple(w for w in seg.words if (_mid(w) < boundary_s) == before)
            if words == seg.words:
                out.append(seg)
            elif words:
                out.append(_segment_from_words(seg, words))
        return out

    kept_left, kept_right = keep(left, True), keep(right, False)
    left_words = [w for s in kept_left for w in s.words]
    if left_words and kept_right and kept_right[0].words:
        last, first = left_words[-1], kept_right[0].words[0]
        if _norm(last.text) == _norm(first.text) and first.start < last.end + 0.3:
            rest = kept_right[0].words[1:]
            kept_right = (
                [_segment_from_words(kept_right[0], rest), *kept_right[1:]]
                if rest
                else kept_right[1:]
            )
    return kept_left, kept_right


def _mid(word: Word) -> float:
    return (word.start + word.end) / 2


#: Two decodes agree on a word when its text matches and it starts within this of each other.
AGREE_S = 0.3


def _agreed_border(
    left: list[Segment], right: list[Segment], overlap: tuple[float, float], middle: float
) -> float | None:
    """Just before a word both sides decoded alike inside ``overlap``, nearest ``middle``."""
    lo, hi = overlap
    left_words = [w for s in left for w in s.words if lo <= _mid(w) <= hi]
    right_words = [w for s in right for w in s.words if lo <= _mid(w) <= hi]
    best: tuple[float, float] | None = None  # (distance to the middle, border)
    for lw in left_words:
        for rw in right_words:
            same = bool(_norm(lw.text)) and _norm(lw.text) == _norm(rw.text)
            if same and abs(lw.start - rw.start) <= AGREE_S:
                # Both copies of the agreed word fall after the border: the right one is
                # kept, and the left decode's words before it.
                border = min(_mid(lw), _mid(rw)) - 1e-3
                candidate = (abs(border - middle), border)
                if best is None or candidate < best:
                    best = candidate
    return None if best is None else best[1]


def joined(left: list[Segment], right: list[Segment], start: int, overlap: int) -> list[Segment]:
    """``left`` followed by the decode of a window starting at sample ``start``.

    A window after a forced cut shares ``overlap`` samples with the previous one: the words
    of the shared audio are kept from one side of its middle only.
    """
    if overlap and left and right:
        shared = (start / SAMPLE_RATE, (start + overlap) / SAMPLE_RATE)
        middle = (start + overlap / 2) / SAMPLE_RATE
        left, right = merge_overlap(left, right, middle, shared)
    return [*left, *right]


def text_of(segments: list[Segment]) -> str:
    return " ".join(s.text.strip() for s in segments if s.text.strip())
