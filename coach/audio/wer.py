"""Word error rate with a normalization fit for this field's vocabulary.

Used by the benchmark, the tests and ``coach doctor``. Both sides are lowercased, hyphens
and slashes split words ("Med-Peds" = "med peds"), other punctuation goes, small numbers are
spelled out ("Step 2" = "step two", "PGY-1" = "pgy one") and a few spellings Whisper
alternates between are unified. A word written closed on one side and open on the other
("thereunder" / "there under") counts as one word. No third-party library is needed at run
time.
"""

from __future__ import annotations

import re

from coach.spoken.numbers import TENS, UNITS

# The number words are the shared ones (coach.spoken.numbers), in order: zero..nineteen.
_ONES = list(UNITS)
_TENS = ["_", "_", *TENS]  # twenty..ninety at 2..9

#: Spellings that mean the same word (after lowercasing and splitting hyphens).
_SAME = {
    "okay": "ok",
    "uhm": "um",
    "umm": "um",
    "uhh": "uh",
    "ah": "uh",
    "er": "uh",
    "pgy1": "pgy one",
    "subi": "sub i",
    "medpeds": "med peds",
    # Contractions: a speaker's "I am" is often written "I'm" and vice versa.
    "i'm": "i am",
    "i've": "i have",
    "i'll": "i will",
    "i'd": "i would",
    "it's": "it is",
    "that's": "that is",
    "we're": "we are",
    "you're": "you are",
    "they're": "they are",
    "don't": "do not",
    "didn't": "did not",
    "doesn't": "does not",
    "can't": "cannot",
    "won't": "will not",
    "wasn't": "was not",
    "isn't": "is not",
    "couldn't": "could not",
    "wouldn't": "would not",
    "let's": "let us",
}


def number_words(n: int) -> str:
    """Spell out 0 ≤ n < 10 000 ("2" -> "two", "1961" -> "one thousand nine hundred sixty one")."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {number_words(rest)}" if rest else "")
    if n < 10_000:
        thousands, rest = divmod(n, 1000)
        return f"{_ONES[thousands]} thousand" + (f" {number_words(rest)}" if rest else "")
    return " ".join(_ONES[int(d)] for d in str(n))


def normalize(text: str) -> str:
    """Lowercase words separated by single spaces, as described in the module docstring."""
    t = text.lower().replace("’", "'")
    t = re.sub(r"(\d),(\d{3})", r"\1\2", t)  # 1,000 -> 1000
    t = re.sub(r"(\d+)\s*%", r"\1 percent", t)
    t = re.sub(r"([a-z])(\d)", r"\1 \2", t)  # pgy1 -> pgy 1, step2 -> step 2
    t = re.sub(r"[-–—/]", " ", t)
    t = re.sub(r"[^a-z0-9' ]+", " ", t)
    t = re.sub(r"\d+", lambda m: f" {number_words(int(m.group()))} ", t)
    words: list[str] = []
    for word in t.split():
        word = word.strip("'")
        if not word:
            continue
        words.extend(_SAME.get(word, word).split())
    return " ".join(words)


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance between two word lists."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def join_compounds(words: list[str], vocabulary: set[str]) -> list[str]:
    """Join adjacent words whose concatenation is a word of the other text.

    A word written closed in one text and open in the other ("thereunder" / "there under",
    "lifespan" / "life span", "into" / "in to") is one spoken word either way, as hyphenated
    and open spellings already are ("Med-Peds" / "Med Peds").
    """
    out: list[str] = []
    i = 0
    while i < len(words):
        if i + 1 < len(words) and words[i] + words[i + 1] in vocabulary:
            out.append(words[i] + words[i + 1])
            i += 2
        else:
            out.append(words[i])
            i += 1
    return out


def wer_words(reference: str, hypothesis: str) -> tuple[list[str], list[str]]:
    """The word lists :func:`wer` compares: normalized, compounds joined on both sides."""
    ref = normalize(reference).split()
    hyp = normalize(hypothesis).split()
    hyp = join_compounds(hyp, set(ref) - set(hyp))
    ref = join_compounds(ref, set(hyp) - set(ref))
    return ref, hyp


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate of ``hypothesis`` against ``reference`` (see :func:`wer_words`)."""
    ref, hyp = wer_words(reference, hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)


#: The hesitation sounds delivery scoring counts (after :func:`normalize`).
FILLERS = frozenset({"um", "uh"})


def aligned_matches(ref: list[str], hyp: list[str]) -> list[tuple[int, int]]:
    """Index pairs of equal words on one minimum-edit alignment of ``ref`` and ``hyp``."""
    rows = [list(range(len(hyp) + 1))]
    for i, r in enumerate(ref, 1):
        prev, cur = rows[-1], [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        rows.append(cur)
    pairs: list[tuple[int, int]] = []
    i, j = len(ref), len(hyp)
    while i > 0 and j > 0:
        if ref[i - 1] == hyp[j - 1] and rows[i][j] == rows[i - 1][j - 1]:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif rows[i][j] == rows[i - 1][j - 1] + 1:
            i, j = i - 1, j - 1
        elif rows[i][j] == rows[i - 1][j] + 1:
            i -= 1
        else:
            j -= 1
    return pairs[::-1]


def filler_recall(reference: str, hypothesis: str) -> float | None:
    """Share of the reference's fillers found at the same place in the hypothesis.

    None when the reference has no filler. Fillers the hypothesis invents elsewhere do not
    count (see :func:`count_fillers` for those).
    """
    ref = normalize(reference).split()
    hyp = normalize(hypothesis).split()
    total = sum(word in FILLERS for word in ref)
    if not total:
        return None
    found = sum(ref[i] in FILLERS for i, _ in aligned_matches(ref, hyp))
    return found / total


def count_fillers(text: str) -> int:
    """How many fillers ``text`` holds (after :func:`normalize`)."""
    return sum(word in FILLERS for word in normalize(text).split())
