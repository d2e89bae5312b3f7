"""Numbers as people say them and as the transcriber writes them.

Whisper writes "twenty programs" as often as "20 programs", and a score as "two hundred
forty-five" or "245". :func:`find_numbers` reads both (cardinals up to the thousands, "a
hundred", "and" inside a number, hyphens, digits with commas, years said as "twenty twenty-four")
and keeps the character span of each, so a flag can quote the answer exactly. :func:`normalise`
is the matching form of a text: lower case, numbers as digits, punctuation gone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNITS: dict[str, int] = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ]
    )
}
TENS: dict[str, int] = {
    w: 10 * (i + 2)
    for i, w in enumerate(
        ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
    )
}
ORDINALS: dict[str, int] = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "once": 1,
    "twice": 2,
}
SCALES: dict[str, int] = {"hundred": 100, "thousand": 1000}
# Common transcriber spellings of the same words.
_ALIASES: dict[str, str] = {"fourty": "forty", "ninty": "ninety", "a": "a"}

_TOKEN = re.compile(r"\d[\d,]*(?:\.\d+)?|[A-Za-z]+(?:'[A-Za-z]+)?")


@dataclass(frozen=True, slots=True)
class NumberSpan:
    """A number in a text: its value and where it was said (``text[start:end]``)."""

    value: float
    start: int
    end: int
    text: str
    ordinal: bool = False  # "second", "twice": counts of attempts, not quantities


@dataclass(frozen=True, slots=True)
class Token:
    text: str  # lower case
    start: int
    end: int


def tokens(text: str) -> list[Token]:
    """Words and digit groups with their spans (hyphens and punctuation split words)."""
    return [Token(m.group().lower(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _word_value(word: str) -> int | None:
    word = _ALIASES.get(word, word)
    if word in UNITS:
        return UNITS[word]
    return TENS.get(word)


def _digits(word: str) -> float | None:
    if not word[0].isdigit():
        return None
    try:
        return float(word.replace(",", ""))
    except ValueError:
        return None


def find_numbers(text: str) -> list[NumberSpan]:
    """Every number in ``text`` (digits or words), in order, with its span."""
    toks = tokens(text)
    out: list[NumberSpan] = []
    i = 0
    while i < len(toks):
        word = toks[i].text
        digit = _digits(word)
        if digit is not None:
            out.append(
                NumberSpan(digit, toks[i].start, toks[i].end, text[toks[i].start : toks[i].end])
            )
            i += 1
            continue
        if word in ORDINALS:
            out.append(
                NumberSpan(ORDINALS[word], toks[i].start, toks[i].end, toks[i].text, ordinal=True)
            )
            i += 1
            continue
        value, j = _spoken(toks, i)
        if j > i:
            start, end = toks[i].start, toks[j - 1].end
            out.append(NumberSpan(value, start, end, text[start:end]))
            i = j
        else:
            i += 1
    return out


def _spoken(toks: list[Token], i: int) -> tuple[int, int]:
    """Parse a spoken cardinal starting at ``toks[i]``: (value, index after it); j == i: none."""
    total = 0  # completed thousands
    current = 0  # below a thousand
    j = i
    seen = False
    last = ""  # "unit", "tens", "scale"
    while j < len(toks):
        w = _ALIASES.get(toks[j].text, toks[j].text)
        v = _word_value(w)
        if w == "a" and j + 1 < len(toks) and toks[j + 1].text in SCALES and not seen:
            current, seen, last = 1, True, "unit"
            j += 1
            continue
        if w == "and" and seen and last == "scale" and j + 1 < len(toks):
            if _word_value(toks[j + 1].text) is not None:
                j += 1
                continue
            break
        if v is not None:
            if w in TENS:
                if last in ("unit", "tens") and current % 100:
                    # "twenty twenty-four": a year said in two halves.
                    if last == "tens" and current in (20, 19) and total == 0:
                        rest, k = _spoken(toks, j)
                        if k > j and rest < 100:
                            return current * 100 + rest, k
                    break
                current += v
                last = "tens"
            else:
                if last == "unit" or (last == "tens" and current % 10):
                    break  # "two three" are two numbers
                if last == "tens" and v >= 10:
                    break
                current += v
                last = "unit"
            seen = True
            j += 1
            continue
        if w in SCALES and seen and last != "scale":
            scale = SCALES[w]
            if scale == 100:
                current = max(current, 1) * 100
            else:
                total += max(current, 1) * scale
                current = 0
            last = "scale"
            j += 1
            continue
        break
    if not seen:
        return 0, i
    return total + current, j


def _spell(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def normalise(text: str) -> str:
    """The matching form: lower case, cardinals as digits, words separated by single spaces."""
    parts: list[str] = []
    pos = 0
    for n in find_numbers(text):
        if n.ordinal:
            continue
        parts.append(text[pos : n.start])
        parts.append(f" {_spell(n.value)} ")
        pos = n.end
    parts.append(text[pos:])
    joined = "".join(parts).lower()
    return " ".join(re.findall(r"[a-z0-9]+(?:\.[0-9]+)?", joined))
