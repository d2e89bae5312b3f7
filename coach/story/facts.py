"""Facts stated in an answer: the numbers, roles, specialties and SOAP that a story is made of.

The consistency check compares these between answers and with the story. Each fact keeps a
short quote of the answer ("about twenty programs"), so a flag can show both sides in the
user's own words. Extraction is rule-based and deliberately cautious: a number counts only with
a unit or a verb that says what it counts ("twenty programs", "interviewed at four"), and
programs and interviews carry the cycle they belong to ("last year" versus "this cycle"), so
last year's list and this year's never clash. Works on transcripts (lower case, no
punctuation, numbers as words) as well as typed text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coach.spoken.numbers import NumberSpan, find_numbers, tokens
from coach.story.lexicon import (
    CLAUSE_SUBJECTS,
    CURRENT_CUES,
    EARLIER_LIFE,
    HEDGE_PAIRS,
    HEDGES,
    INTERVIEW_NOUNS,
    PAST_CUES,
    PROGRAM_NOUNS,
    RESEARCH_ROLE_NOUNS,
    ROLE_PAIRS,
    ROLE_WORDS,
    SPECIALTY_PAIRS,
    SPECIALTY_WORDS,
    UNIT_SKIP,
    WORK_CUES,
)

Frame = str  # "past" (last cycle), "current" (this cycle), "" (no cycle: months, scores, roles)


@dataclass(frozen=True, slots=True)
class Fact:
    """One thing an answer said: ``kind`` (programs, interviews, months, score, attempts,
    role, specialties, soap), ``key`` (which exam, which role), the value and a quote."""

    kind: str
    key: str
    value: float | str | frozenset[str] | bool
    quote: str
    frame: Frame = ""
    hedged: bool = False
    exclusive: bool = False  # specialties: "only Med-Peds"


@dataclass(frozen=True, slots=True)
class _Tok:
    word: str  # lower case, apostrophes removed
    start: int
    end: int
    sentence: int


def _tokenise(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    sentence = 0
    pos = 0
    for t in tokens(text):
        if re.search(r"[.!?;]", text[pos : t.start]):
            sentence += 1
        out.append(_Tok(t.text.replace("'", ""), t.start, t.end, sentence))
        pos = t.end
    return out


def _at(toks: list[_Tok], i: int, phrase: tuple[str, ...]) -> bool:
    return all(
        0 <= i + k < len(toks)
        and toks[i + k].word == w
        and toks[i + k].sentence == toks[i].sentence
        for k, w in enumerate(phrase)
    )


def _quote(text: str, toks: list[_Tok], i: int, j: int) -> str:
    i, j = max(0, i), min(len(toks) - 1, j)
    return text[toks[i].start : toks[j].end]


def _frame(toks: list[_Tok], i: int, default: Frame = "") -> tuple[Frame, int]:
    """The cycle a word at ``i`` belongs to: nearest cue before it (12 words), else after (6)."""
    sentence = toks[i].sentence

    def cue_at(k: int) -> Frame:
        for cues, frame in ((PAST_CUES, "past"), (CURRENT_CUES, "current")):
            if any(_at(toks, k, c) for c in cues):
                return frame
        return ""

    for k in range(i, max(-1, i - 13), -1):
        if toks[k].sentence != sentence:
            break
        if found := cue_at(k):
            return found, k
    for k in range(i + 1, min(len(toks), i + 7)):
        if toks[k].sentence != sentence:
            break
        if found := cue_at(k):
            return found, k
    # Weak cues: the verb's tense.
    for k in range(max(0, i - 6), min(len(toks), i + 3)):
        if toks[k].sentence != sentence:
            continue
        if toks[k].word in ("applied", "interviewed", "had", "received", "got"):
            return "past", -1
        if toks[k].word in ("applying",):
            return "current", -1
    return default, -1


def _hedge_before(toks: list[_Tok], i: int) -> int:
    """Index of a hedge word just before ``i`` ("about twenty"), or -1."""
    for k in (i - 1, i - 2):
        if k < 0 or toks[k].sentence != toks[i].sentence:
            continue
        if toks[k].word in HEDGES or any(_at(toks, k, p) for p in HEDGE_PAIRS):
            return k
    return -1


def _exam_mentions(toks: list[_Tok], nums: dict[int, NumberSpan]) -> dict[int, str]:
    """Token index -> exam key ("step 2", "comlex 1") for each exam named in the text."""
    found: dict[int, str] = {}
    for i, t in enumerate(toks):
        if t.word in ("step", "level", "comlex") and i + 1 < len(toks):
            k = i + 1
            if t.word == "comlex" and k < len(toks) and toks[k].word == "level":
                k += 1
            n = nums.get(k)
            if n is not None and 1 <= n.value <= 3:
                name = "comlex" if t.word in ("comlex", "level") else "step"
                if t.word == "level" and not (i > 0 and toks[i - 1].word == "comlex"):
                    continue
                found[i] = f"{name} {int(n.value)}"
    return found


def _nearest_exam(exams: dict[int, str], toks: list[_Tok], i: int) -> tuple[str, int]:
    """The exam a number belongs to: the nearest one named before it, else after it."""
    same = [
        (k > i, abs(k - i), k, v) for k, v in exams.items() if toks[k].sentence == toks[i].sentence
    ]
    if not same:
        return "", -1
    _, _, k, v = min(same)
    return v, k


def _number_index(toks: list[_Tok], text: str) -> dict[int, NumberSpan]:
    """First token index of each number -> the number (with how many tokens it spans)."""
    starts = {t.start: i for i, t in enumerate(toks)}
    return {starts[n.start]: n for n in find_numbers(text) if n.start in starts}


def _last_token(toks: list[_Tok], i: int, n: NumberSpan) -> int:
    j = i
    while j + 1 < len(toks) and toks[j + 1].end <= n.end:
        j += 1
    return j


def extract_facts(text: str, *, default_frame: Frame = "") -> list[Fact]:
    """Every fact :mod:`coach.story.consistency` compares, in the order said."""
    toks = _tokenise(text)
    if not toks:
        return []
    nums = _number_index(toks, text)
    exams = _exam_mentions(toks, nums)
    exam_numbers = {
        k + (2 if toks[k].word == "comlex" and toks[k + 1].word == "level" else 1) for k in exams
    }
    facts: list[Fact] = []
    for i, n in sorted(nums.items()):
        if i in exam_numbers:
            continue
        j = _last_token(toks, i, n)
        facts.extend(_number_facts(text, toks, i, j, n, exams, default_frame))
    facts.extend(_year_words(text, toks))
    facts.extend(_roles(text, toks))
    facts.extend(_specialties(text, toks, default_frame))
    facts.extend(_soap(text, toks))
    return facts


def _next_noun(toks: list[_Tok], j: int) -> tuple[str, int]:
    for k in range(j + 1, min(len(toks), j + 4)):
        if toks[k].sentence != toks[j].sentence:
            break
        if toks[k].word not in UNIT_SKIP:
            return toks[k].word, k
    return "", -1


def _role_key(toks: list[_Tok], i: int) -> str:
    best: tuple[int, str] | None = None
    for k, role in _role_hits(toks):
        if toks[k].sentence == toks[i].sentence:
            d = abs(k - i)
            if best is None or d < best[0]:
                best = (d, role)
    return best[1] if best else "work"


def _number_facts(
    text: str,
    toks: list[_Tok],
    i: int,
    j: int,
    n: NumberSpan,
    exams: dict[int, str],
    default_frame: Frame,
) -> list[Fact]:
    noun, k = _next_noun(toks, j)
    before = {t.word for t in toks[max(0, i - 4) : i] if t.sentence == toks[i].sentence}
    hedge = _hedge_before(toks, i)
    start = hedge if hedge >= 0 else i
    if n.ordinal:
        return _attempt_ordinal(text, toks, i, n, exams)
    if noun in ("attempts", "tries", "times") and before & {"took", "taken", "sat", "me"}:
        exam, _ = _nearest_exam(exams, toks, i)
        return [Fact("attempts", exam or "exam", n.value, _quote(text, toks, start, k))]
    if noun in ("year", "years") and k + 1 < len(toks) and toks[k + 1].word == "old":
        return []
    if noun in ("months", "month", "years", "year"):
        return _duration(
            text, toks, start, k, n.value * (12 if noun.startswith("year") else 1), hedge >= 0
        )
    interviewed = before & {"interviewed", "interviews", "interview"}
    if noun in INTERVIEW_NOUNS or (interviewed and noun in PROGRAM_NOUNS | {""}):
        kind = "interviews"
    elif noun in PROGRAM_NOUNS or (noun == "" and before & {"applied", "apply", "applying"}):
        kind = "programs"
    else:
        exam, _ = _nearest_exam(exams, toks, i)
        if exam and 100 <= n.value <= 800 and noun not in ("patients", "hours", "people"):
            return [Fact("score", exam, n.value, _quote(text, toks, start, j))]
        return []
    frame, _ = _frame(toks, i, default_frame)
    end = k if k >= 0 and toks[k].word in PROGRAM_NOUNS | INTERVIEW_NOUNS else j
    first = (
        min(start, *(x for x in range(i - 3, i) if x >= 0 and toks[x].word in interviewed))
        if interviewed
        else start
    )
    return [Fact(kind, "", n.value, _quote(text, toks, first, end), frame, hedge >= 0)]


def _attempt_ordinal(
    text: str, toks: list[_Tok], i: int, n: NumberSpan, exams: dict[int, str]
) -> list[Fact]:
    """ "passed on my second attempt", "took it twice": the attempt that passed."""
    word = toks[i].word
    sentence = toks[i].sentence
    window = [t for t in toks[max(0, i - 8) : i] if t.sentence == sentence]
    # Only an exam named before it: in "passed every exam on the first try, including Step 2"
    # the first try is about every exam, not Step 2 alone.
    exam, at = _nearest_exam(exams, toks, i)
    if at > i:
        exam = ""
    if word == "twice":
        if any(t.word in ("took", "taken", "sat") for t in window):
            return [Fact("attempts", exam or "exam", 2.0, _quote(text, toks, i - 3, i))]
        return []
    if i + 1 >= len(toks) or toks[i + 1].word not in ("attempt", "try", "time", "go"):
        return []
    # The nearest pass/fail verb before decides what the ordinal counts.
    for k in range(i - 1, max(-1, i - 9), -1):
        if toks[k].sentence != sentence:
            break
        w = toks[k].word
        if w.startswith("fail") or w in ("didnt",):
            return []
        if w.startswith("pass"):
            if k > 0 and toks[k - 1].word in ("not", "didnt", "never"):
                return []
            return [Fact("attempts", exam or "exam", n.value, _quote(text, toks, k, i + 1))]
    return []


def _duration(
    text: str, toks: list[_Tok], start: int, end: int, months: float, hedged: bool
) -> list[Fact]:
    sentence = toks[start].sentence
    words = [t.word for t in toks if t.sentence == sentence]
    nxt = toks[end + 1].word if end + 1 < len(toks) and toks[end + 1].sentence == sentence else ""
    for_ = start > 0 and toks[start - 1].word in ("for", "spent")
    if nxt in ("after", "before", "ago", "later", "into", "old") and not for_:
        return []  # "three months after SOAP": a point in time, not how long the role lasted
    if not (set(words) & WORK_CUES) and not any(
        r for k, r in _role_hits(toks) if toks[k].sentence == sentence
    ):
        return []
    if any(
        _at(toks, k, p)
        for k in range(len(toks))
        if toks[k].sentence == sentence
        for p in EARLIER_LIFE
    ):
        return []
    role = _role_key(toks, start)
    if role == "work":
        return []  # how long *what* lasted? a gap, a hobby: not compared
    return [Fact("months", role, months, _quote(text, toks, start, end), hedged=hedged)]


def _year_words(text: str, toks: list[_Tok]) -> list[Fact]:
    """Durations said without a number: "a year", "the past year", "a year and a half"."""
    out: list[Fact] = []
    for i, t in enumerate(toks):
        if t.word != "year" or i == 0 or toks[i - 1].sentence != t.sentence:
            continue
        prev = toks[i - 1].word
        if prev not in ("a", "past", "full"):
            continue
        start = i - 1
        if prev in ("past", "full") and i >= 2 and toks[i - 2].word in ("the", "a"):
            start = i - 2
        months, end = 12.0, i
        if _at(toks, i + 1, ("and", "a", "half")):
            months, end = 18.0, i + 3
        if start > 0 and toks[start - 1].word in ("almost", "nearly", "about", "over"):
            start -= 1
        # "for a year", "spent a year": a duration; "this past year", "over the past year": when.
        if start == 0 or toks[start - 1].word not in ("for", "spent", "almost", "nearly", "about"):
            continue
        # "a year" is a round figure: hedged, so "ten months" and "a year" agree.
        out.extend(_duration(text, toks, start, end, months, True))
    return out


def _role_hits(toks: list[_Tok]) -> list[tuple[int, str]]:
    hits: list[tuple[int, str]] = []
    for i, t in enumerate(toks):
        pair = (t.word, toks[i + 1].word) if i + 1 < len(toks) else ("", "")
        if pair in ROLE_PAIRS and toks[i + 1].sentence == t.sentence:
            hits.append((i, ROLE_PAIRS[pair]))
        elif t.word in ROLE_WORDS:
            if t.word == "research" and not _research_role(toks, i):
                continue
            hits.append((i, ROLE_WORDS[t.word]))
    return hits


def _research_role(toks: list[_Tok], i: int) -> bool:
    """ "research coordinator", "research job", "doing clinical research": research as the
    year's work, not "my research mentor"."""
    nxt = toks[i + 1].word if i + 1 < len(toks) and toks[i + 1].sentence == toks[i].sentence else ""
    prev = toks[i - 1].word if i > 0 and toks[i - 1].sentence == toks[i].sentence else ""
    return nxt in RESEARCH_ROLE_NOUNS or prev in ("doing", "did", "clinical", "full", "time")


def _roles(text: str, toks: list[_Tok]) -> list[Fact]:
    """What the year's work is, when a sentence says someone works at it."""
    out: list[Fact] = []
    for i, role in _role_hits(toks):
        sentence = toks[i].sentence
        words = {t.word for t in toks if t.sentence == sentence}
        if not words & WORK_CUES:
            continue
        if any(
            _at(toks, k, p)
            for k in range(len(toks))
            if toks[k].sentence == sentence
            for p in EARLIER_LIFE
        ):
            continue
        lo = i
        for k in range(i - 1, max(-1, i - 4), -1):
            if toks[k].sentence != sentence:
                break
            if toks[k].word in ("as", "a", "an", "medical", "clinical", "full", "time", "research"):
                lo = k
            else:
                break
        hi = i + (
            1 if (toks[i].word, toks[i + 1].word if i + 1 < len(toks) else "") in ROLE_PAIRS else 0
        )
        if (
            hi + 1 < len(toks)
            and toks[hi + 1].sentence == sentence
            and toks[hi + 1].word
            in ("coordinator", "assistant", "fellow", "associate", "job", "position", "role")
        ):
            hi += 1
        out.append(Fact("role", "year", role, _quote(text, toks, lo, hi)))
    return out


def _specialties(text: str, toks: list[_Tok], default_frame: Frame) -> list[Fact]:
    """Specialties applied to, from each "applied/applying/dual" word to the end of its clause."""
    out: list[Fact] = []
    for i, t in enumerate(toks):
        if t.word.startswith("applica") or not (
            t.word.startswith("appl") or t.word.startswith("reappl") or t.word == "dual"
        ):
            continue  # the verb, not "application"
        if t.word == "dual" and i + 1 < len(toks) and toks[i + 1].word.startswith("appl"):
            continue  # "dual applying": counted at the verb
        sentence = t.sentence
        found: dict[str, int] = {}
        k = i + 1
        while k < len(toks) and k <= i + 14 and toks[k].sentence == sentence:
            if k > i + 1 and any(_at(toks, k, c) for c in PAST_CUES + CURRENT_CUES):
                break
            if toks[k].word.startswith("appl") or toks[k].word in CLAUSE_SUBJECTS:
                break  # the next verb, or a new clause ("…, and I would be happy in IM")
            pair = (toks[k].word, toks[k + 1].word) if k + 1 < len(toks) else ("", "")
            if pair in SPECIALTY_PAIRS:
                found.setdefault(SPECIALTY_PAIRS[pair], k + 1)
                k += 2
                continue
            if toks[k].word in SPECIALTY_WORDS:
                found.setdefault(SPECIALTY_WORDS[toks[k].word], k)
            k += 1
        words = {x.word for x in toks if x.sentence == sentence}
        if not found or words & {"soap", "positions", "position"}:
            continue  # SOAP applications are to open positions, not the cycle's specialties
        near = {x.word for x in toks[max(0, i - 3) : i + 3] if x.sentence == sentence}
        specialties = set(found)
        if near & {"dual", "also"} and "Med-Peds" not in specialties:
            specialties.add("Med-Peds")
        frame, _ = _frame(toks, i, default_frame)
        end = max(found.values())
        out.append(
            Fact(
                "specialties",
                "",
                frozenset(specialties),
                _quote(text, toks, i, end),
                frame,
                exclusive=bool(near & {"only", "just", "exclusively"}),
            )
        )
    return out


_SOAP_NO = re.compile(
    r"\b(?:not|never|didnt|no)\b(?: \w+){0,3}? (?:enter|participat|take part|go through|"
    r"apply through|join|use|do)\w*(?: in| into| through)?(?: the)? soap\b|\bskipped (?:the )?soap\b"
)
_SOAP_YES = re.compile(
    r"\b(?:entered|enter|participated|went through|took part|applied through|during|through)"
    r"(?: in)?(?: the)? soap\b"
)


def _soap(text: str, toks: list[_Tok]) -> list[Fact]:
    out: list[Fact] = []
    for sentence in sorted({t.sentence for t in toks if t.word == "soap"}):
        idx = [i for i, t in enumerate(toks) if t.sentence == sentence]
        joined = " ".join(toks[i].word for i in idx)
        at = next(i for i in idx if toks[i].word == "soap")
        quote = _quote(text, toks, max(idx[0], at - 4), at)
        if _SOAP_NO.search(joined):
            out.append(Fact("soap", "", False, quote))
        elif _SOAP_YES.search(joined):
            out.append(Fact("soap", "", True, quote))
    return out
