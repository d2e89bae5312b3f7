"""The sentence head's second reader: word n-grams learned from the labelled corpus.

The embedding head (coach.scoring.semantic) reads what a sentence is about; it is weaker on
the small turns that change its role ("in fairness I was thirty hours in", "the paperwork was
not completed by social work", "one number on one day"). A logistic model on the sentence's
words, word pairs and word triples, learned per label from the same train sentences, reads
those turns and errs elsewhere: on the dev split the mean of the two probabilities lifted the
sentence AUC of every role (mean 0.926 -> 0.948; tone risk 0.914 -> 0.943) and of the content
points (0.933 -> 0.954), where either alone was about as good as the other.

Unlike the phrase lists, nothing here is written by hand: the n-grams are every one that
occurs in at least three train sentences, and their weights are fitted (scripts/train_scorer.py).
Text is lower-cased and cut into letter runs, so a transcript without punctuation and the
typed sentence give the same n-grams.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

_WORD = re.compile(r"[a-z']+")


def ngrams(text: str) -> list[str]:
    """The sentence's words, word pairs and word triples (in order, with repeats)."""
    w = _WORD.findall(text.lower())
    return (
        w
        + [f"{a}_{b}" for a, b in pairwise(w)]
        + [f"{a}_{b}_{c}" for a, b, c in zip(w, w[1:], w[2:], strict=False)]
    )


@dataclass(frozen=True)
class Lexical:
    vocab: tuple[str, ...]
    weights: np.ndarray  # (labels, vocab), the head's label order
    bias: np.ndarray  # (labels,)
    index: dict[str, int] = field(init=False, repr=False, compare=False)
    rows: np.ndarray = field(init=False, repr=False, compare=False)  # (vocab, labels)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {g: j for j, g in enumerate(self.vocab)})
        object.__setattr__(self, "rows", np.ascontiguousarray(self.weights.T, dtype=np.float32))

    def columns(self, text: str) -> list[int]:
        """The vocabulary columns of the n-grams ``text`` has (each once)."""
        return sorted({j for g in ngrams(text) if (j := self.index.get(g)) is not None})

    def matrix(self, texts: list[str]) -> np.ndarray:
        """Each text's n-grams as a row: 1 for each vocabulary n-gram present, scaled by one
        over the square root of how many there are (long sentences do not shout)."""
        x = np.zeros((len(texts), len(self.vocab)), dtype=np.float32)
        for i, t in enumerate(texts):
            cols = self.columns(t)
            if cols:
                x[i, cols] = 1.0 / np.sqrt(len(cols))
        return x

    def logits(self, texts: list[str]) -> np.ndarray:
        """(texts, labels) logits: the same product as ``matrix(texts) @ weights.T + bias``,
        summed over each text's few n-grams instead of the whole vocabulary."""
        out = np.tile(self.bias.astype(np.float32), (len(texts), 1))
        for i, t in enumerate(texts):
            cols = self.columns(t)
            if cols:
                out[i] += self.rows[cols].sum(axis=0) / np.float32(np.sqrt(len(cols)))
        return out
