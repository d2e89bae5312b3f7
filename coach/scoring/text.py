"""Tokens and sentences of an answer, with character offsets into the original text.

Matching works on *normalised stems* so that inflections ("blamed", "blaming") and
contractions with or without apostrophes ("didn't", "didnt", "did not") line up, while every
token keeps the exact ``start:end`` span of the original text for evidence highlighting.
Transcripts often come without punctuation, so long unpunctuated stretches are cut into
pseudo-sentences at discourse markers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_WORD_RE = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)*")
_SENT_END_RE = re.compile(r"[.!?]+(?=\s|$)|\n\s*\n")
_CLAUSE_PUNCT = frozenset(".,;:!?()—–\n")
_HYPHENS = frozenset({"-", "‐", "‑"})

# Contractions, with and without the apostrophe (speech recognisers drop it).
_CONTRACTIONS: dict[str, tuple[str, ...]] = {
    "can't": ("can", "not"),
    "cant": ("can", "not"),
    "won't": ("will", "not"),
    "wont": ("will", "not"),
    "shan't": ("shall", "not"),
    "i'm": ("i", "am"),
    "im": ("i", "am"),
    "i've": ("i", "have"),
    "ive": ("i", "have"),
    "i'd": ("i", "would"),
    "i'll": ("i", "will"),
    "it's": ("it", "is"),
    "that's": ("that", "is"),
    "they're": ("they", "are"),
    "we're": ("we", "are"),
    "you're": ("you", "are"),
    "let's": ("let", "us"),
    # Pronoun contractions, so "she's upset" and "they'd been waiting" keep their subject.
    "he's": ("he", "is"),
    "she's": ("she", "is"),
    "he'd": ("he", "had"),
    "she'd": ("she", "had"),
    "they'd": ("they", "had"),
    "we'd": ("we", "had"),
    "he'll": ("he", "will"),
    "she'll": ("she", "will"),
    "they'll": ("they", "will"),
    "we'll": ("we", "will"),
    "they've": ("they", "have"),
    "we've": ("we", "have"),
    "you've": ("you", "have"),
    "theyre": ("they", "are"),
    "theyve": ("they", "have"),
}
_NT_WORDS = [
    "didnt",
    "doesnt",
    "dont",
    "isnt",
    "wasnt",
    "werent",
    "arent",
    "havent",
    "hasnt",
    "hadnt",
    "couldnt",
    "wouldnt",
    "shouldnt",
    "mustnt",
    "neednt",
    "aint",
]
for _w in _NT_WORDS:
    _CONTRACTIONS[_w] = (_w[:-2], "not")
    _CONTRACTIONS[_w[:-2] + "n't"] = (_w[:-2], "not")
_CONTRACTIONS["ain't"] = ("is", "not")
_CONTRACTIONS["aint"] = ("is", "not")
_CONTRACTIONS["don't"] = ("do", "not")
_CONTRACTIONS["dont"] = ("do", "not")

# Unpunctuated transcripts are cut before these words once a pseudo-sentence is long enough.
_SPLIT_BEFORE = frozenset(
    [
        "so",
        "but",
        "after",
        "since",
        "now",
        "then",
        "because",
        "afterwards",
        "ultimately",
        "overall",
        "this",
        "that",
    ]
)
_PSEUDO_MIN, _PSEUDO_MAX = 10, 24


@dataclass(frozen=True, slots=True)
class Token:
    """One normalised word; contractions expand to two tokens sharing one span."""

    raw: str  # lower-cased word ("did", "not", "blamed")
    stem: str  # crude stem used for matching ("blam")
    start: int  # character span in the original text
    end: int
    sentence: int  # index into Analysis.sentences
    brk: bool  # a clause break (punctuation) sits between the previous token and this one


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    first_token: int
    last_token: int  # exclusive

    @property
    def n_tokens(self) -> int:
        return self.last_token - self.first_token


@dataclass(frozen=True, slots=True)
class Analysis:
    """The tokenised answer."""

    text: str
    tokens: tuple[Token, ...]
    sentences: tuple[Sentence, ...]
    words: int  # surface words (a contraction counts once)
    punctuated: bool  # False when sentences were estimated (transcripts without punctuation)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A deliberately small suffix stripper; the same rule runs on phrases and answers."""
    w = word
    n = len(w)
    if n <= 3:
        return w
    if (w.endswith("ies") or w.endswith("ied")) and n > 4:
        w = w[:-3] + "y"
    elif w.endswith("ing") and n - 3 >= 3:
        w = w[:-3]
    elif (w.endswith("ed") and n - 2 >= 3) or (w.endswith("es") and n - 2 >= 3 and w[-3] in "sxzh"):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith("ss") and n - 1 >= 3:
        w = w[:-1]
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    if len(w) >= 4 and w[-1] == w[-2] and w[-1] not in "lsz":
        w = w[:-1]
    return w


def normalise_words(text: str) -> list[str]:
    """The normalised word sequence of a phrase (used when compiling phrase lists)."""
    out: list[str] = []
    for m in _WORD_RE.finditer(text):
        word = m.group().lower().replace("’", "'")
        if word.endswith("'s") and word not in _CONTRACTIONS:
            word = word[:-2]
        if m.group() == "IM":
            out.extend(("internal", "medicine"))
            continue
        out.extend(_CONTRACTIONS.get(word, (word,)))
    return out


def analyse(text: str) -> Analysis:
    """Tokenise ``text`` and split it into sentences (estimated when unpunctuated)."""
    # Surface words first, with the punctuation between them.
    spans: list[tuple[str, int, int, bool]] = []
    prev_end = 0
    surface_words = 0
    for m in _WORD_RE.finditer(text):
        gap = text[prev_end : m.start()]
        brk = any(c in _CLAUSE_PUNCT for c in gap)
        spans.append((m.group().lower().replace("’", "'"), m.start(), m.end(), brk))
        # "Med-Peds" and "sub-internship" are one word each, as a speaker says them.
        if not (gap in _HYPHENS and len(spans) > 1):
            surface_words += 1
        prev_end = m.end()

    ends = [m.end() for m in _SENT_END_RE.finditer(text)]
    punctuated = bool(ends) and len(spans) / (len(ends) + 1) < 40
    # Assign each surface word a sentence index.
    sent_of: list[int] = []
    if punctuated:
        idx, e = 0, 0
        for _, start, _, _ in spans:
            while e < len(ends) and ends[e] <= start:
                e += 1
                idx += 1
            sent_of.append(idx)
        # Compact indices (several terminators in a row make empty sentences).
        remap: dict[int, int] = {}
        sent_of = [remap.setdefault(s, len(remap)) for s in sent_of]
    else:
        idx, run = 0, 0
        for i, (word, _, _, brk) in enumerate(spans):
            if run >= _PSEUDO_MAX or (
                run >= _PSEUDO_MIN and (brk or word in _SPLIT_BEFORE) and i > 0
            ):
                idx += 1
                run = 0
            sent_of.append(idx)
            run += 1

    tokens: list[Token] = []
    for (word, start, end, brk), s in zip(spans, sent_of, strict=True):
        if word.endswith("'s") and word not in _CONTRACTIONS:
            word = word[:-2]
        if word == "im" and text[start:end] == "IM":  # the abbreviation, not "I'm"
            parts: tuple[str, ...] = ("internal", "medicine")
        else:
            parts = _CONTRACTIONS.get(word, (word,))
        for k, part in enumerate(parts):
            tokens.append(Token(part, stem(part), start, end, s, brk and k == 0))

    sentences: list[Sentence] = []
    i = 0
    while i < len(tokens):
        j = i
        s = tokens[i].sentence
        while j < len(tokens) and tokens[j].sentence == s:
            j += 1
        sentences.append(Sentence(tokens[i].start, tokens[j - 1].end, i, j))
        i = j
    # Re-number sentences densely so Token.sentence indexes ``sentences``.
    if sentences and tokens[-1].sentence != len(sentences) - 1:
        dense: dict[int, int] = {}
        tokens = [
            Token(t.raw, t.stem, t.start, t.end, dense.setdefault(t.sentence, len(dense)), t.brk)
            for t in tokens
        ]
    return Analysis(text, tuple(tokens), tuple(sentences), surface_words, punctuated)
