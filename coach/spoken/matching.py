"""Does an answer say a story point? Matching robust to transcripts and paraphrase.

Both texts are brought to one form (:func:`coach.spoken.numbers.normalise`, then a few
spelling families of the field: "peds"/"pediatrics", "sub-I"/"sub-internship", "QI"/"quality
improvement"). A point is said when enough of its content words appear in the answer, each
matched exactly, by a shared stem ("coordinator"/"coordinating") or, for longer words, by
rapidfuzz similarity ("coordinater", "pediatricks": words the transcriber misheard). Numbers
match only exactly ("20" is not "30"). The quote is the answer sentence that matched best.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from coach.spoken.numbers import normalise

#: Spelling families folded to one token before matching (longest phrases first).
PHRASES: tuple[tuple[str, str], ...] = (
    ("internal medicine pediatrics", "medpeds"),
    ("medicine pediatrics", "medpeds"),
    ("med peds", "medpeds"),
    ("med pete", "medpeds"),  # a frequent mishearing
    ("sub internship", "subi"),
    ("sub internships", "subi"),
    ("sub i", "subi"),
    ("acting internship", "subi"),
    ("quality improvement", "qi"),
    ("letters of recommendation", "letter"),
    ("letter of recommendation", "letter"),
    ("u s m l e", "usmle"),
    ("step one", "step 1"),
    ("step two", "step 2"),
    ("step three", "step 3"),
    ("internal medicine", "internalmedicine"),
    ("family medicine", "familymedicine"),
)
WORDS: dict[str, str] = {
    "peds": "pediatrics",
    "paediatrics": "pediatrics",
    "pediatric": "pediatrics",
    "paediatric": "pediatrics",
    "im": "internalmedicine",
    "lor": "letter",
    "lors": "letter",
    "subinternship": "subi",
    "medicine": "medicine",
}
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "from",
        "by",
        "as",
        "is",
        "was",
        "were",
        "be",
        "been",
        "am",
        "are",
        "i",
        "my",
        "me",
        "we",
        "our",
        "you",
        "your",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "their",
        "they",
        "he",
        "she",
        "his",
        "her",
        "them",
        "who",
        "which",
        "what",
        "when",
        "where",
        "how",
        "about",
        "into",
        "over",
        "after",
        "before",
        "during",
        "also",
        "so",
        "very",
        "really",
        "just",
        "than",
        "then",
        "have",
        "has",
        "had",
        "do",
        "did",
        "does",
        "done",
        "not",
        "no",
        "yes",
        "will",
        "would",
        "can",
        "could",
        "should",
        "may",
        "might",
        "new",
        "last",
        "year",
        "years",
        "one",
    ]
)
#: Words too common in these answers to show that a particular point was said; a point is
#: matched on its other words (when it has any).
GENERIC = frozenset(
    [
        "letter",
        "attending",
        "attendings",
        "clinic",
        "program",
        "programs",
        "role",
        "project",
        "work",
        "worked",
        "working",
        "position",
        "job",
        "physician",
        "doctor",
        "dr",
        "faculty",
        "plan",
        "team",
        "patients",
        "patient",
    ]
)
_SENTENCE = re.compile(r"[^.!?;\n]+[.!?;]?")


def fold(text: str) -> str:
    """Normalised text with the field's spelling families folded to single tokens."""
    # "didn't" and the transcriber's "didnt" are one word.
    norm = " " + normalise(text.replace("'", "").replace("’", "")) + " "
    for phrase, token in PHRASES:
        norm = norm.replace(f" {phrase} ", f" {token} ")
    return " ".join(WORDS.get(w, w) for w in norm.split())


@lru_cache(maxsize=4096)
def content_words(text: str) -> tuple[str, ...]:
    """The words of a story point that carry its meaning (in order, without repeats)."""
    seen: dict[str, None] = {}
    for w in fold(text).split():
        if w not in STOPWORDS and (len(w) > 1 or w.isdigit()):
            seen.setdefault(w, None)
    distinctive = tuple(w for w in seen if w not in GENERIC)
    return distinctive or tuple(seen)


def _stem(word: str) -> str:
    # A crude prefix stem: enough to join research/researcher, coordinator/coordinating.
    return word[:6] if len(word) > 6 else word.rstrip("s")


def word_matches(word: str, answer_words: frozenset[str]) -> bool:
    """True if ``word`` (or a variant or close mishearing of it) is among ``answer_words``."""
    if word in answer_words:
        return True
    if word[0].isdigit():
        return False  # numbers match exactly or not at all
    stem = _stem(word)
    for w in answer_words:
        if w[0].isdigit():
            continue
        if _stem(w) == stem or (len(word) >= 4 and w.startswith(word)):  # plan -> planning
            return True
        if len(word) >= 5 and len(w) >= 4 and fuzz.ratio(word, w) >= 82:
            return True
    return False


@dataclass(frozen=True, slots=True)
class PhraseMatch:
    """How much of a point an answer said: share of its content words, and the best sentence."""

    score: float  # 0-1, share of the point's content words found in the answer
    quote: str  # the answer sentence with the most of them ("" when none)
    said: bool


def needed_share(n_words: int) -> int:
    """How many of a point's content words must be found: all of 1-2, then 60 %, then half."""
    if n_words <= 2:
        return n_words
    if n_words <= 5:
        return math.ceil(0.6 * n_words)
    return math.ceil(0.5 * n_words)


def match_phrase(point: str, answer: str, *, require: tuple[str, ...] = ()) -> PhraseMatch:
    """Whether ``answer`` says ``point`` (see the module docstring for how).

    ``require``: words that must also be in the answer (a letter point needs "letter" as well
    as who wrote it, or "pediatrics" alone would count).
    """
    words = content_words(point)
    if not words:
        return PhraseMatch(0.0, "", False)
    all_words = frozenset(fold(answer).split())
    found = [w for w in words if word_matches(w, all_words)]
    score = len(found) / len(words)
    said = len(found) >= needed_share(len(words)) and all(
        word_matches(w, all_words) for r in require for w in fold(r).split()
    )
    quote = ""
    if found:
        best = 0
        for m in _SENTENCE.finditer(answer):
            sentence_words = frozenset(fold(m.group()).split())
            hits = sum(1 for w in found if word_matches(w, sentence_words))
            if hits > best:
                best, quote = hits, m.group().strip()
    return PhraseMatch(score, quote, said)


def mentions(answer: str, term: str) -> bool:
    """True if ``answer`` mentions ``term`` (a word or a short phrase, matched like a point)."""
    return match_phrase(term, answer).said
