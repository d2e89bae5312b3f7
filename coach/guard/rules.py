"""The guard's detector: regular expressions, census names and context, no model.

Each kind has its own rules, tuned for interview answers (typed, or as the speech recognizer
writes them: lower case, numbers spelled out):

* ``email`` / ``phone`` / ``record`` — address and number shapes, spoken forms ("hollis dot
  family at examplemail dot com", "six one four five five five ..."), pager and extension
  numbers, and numbers after a cue (MRN, medical record number, account number, patient ID).
  A long bare number (six digits or more, or digit groups like 00-553-918) counts as a record.
* ``date`` — month with a day, a month after "in/on/since/...", numeric dates, weekdays with
  "last/next/every", holidays ("the night before Thanksgiving"), "the 14th". A bare year is not
  a date here (too coarse to identify anyone, and every reapplicant's story has one).
* ``age`` — "16-year-old", "six month old", "aged 72", "was 17", "turned 21", "Mr. Jefferson, 58,".
* ``name`` / ``place`` — a title and what follows ("Dr. Okafor", "mister delgado"); capitalised
  words that are not sentence-initial and not common words, grouped; a group ending in
  Hospital/Clinic/Street/... or after at/in/from/to is a place, otherwise a name. In lower-case
  text, a census first name after a cue ("daughter lucia", "named eli"), followed by a census
  surname ("sofia ramirez") or opening a clause before a verb ("benjamin turned eighteen"); after
  a strong cue ("this kid mateo, he…") a word from the surname list too. Initials: "J.R.",
  "A. J.", and after a patient cue "pt JR" or the recognizer's "patient j r" (not "U.S.",
  "M.D.", "ICU"). A word-name opening a sentence ("Hope was…") is the word.

Overlaps are resolved by a fixed priority (email > phone > record > date > age > place > name)
and then length. The applicant's own name and schools (:class:`~coach.guard.OwnProfile`) are
dropped with a rapidfuzz comparison, so "Priya Ramen" from the recognizer is still theirs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from rapidfuzz.distance import Levenshtein

from coach.guard import Finding, Kind, OwnProfile
from coach.guard import lexicon as lx

_PRIORITY: Final[dict[str, int]] = {
    "email": 7,
    "phone": 6,
    "record": 5,
    "date": 4,
    "age": 3,
    "place": 2,
    "name": 1,
}
_OWN_KINDS: Final = frozenset({"name", "place"})
_OWN_MIN_FUZZY: Final = 5  # shorter words must match exactly ("Ana" is not "Ava")
_TITLE_WORDS: Final = frozenset({*lx.TITLES, "the", "saint", "st"})
_WORD = re.compile(r"[a-z0-9]+")
_I = re.IGNORECASE

# --- shapes -------------------------------------------------------------------------------
_NUM = rf"(?:\d{{1,3}}|(?:{lx.TENS})(?:[\s-](?:{lx.UNITS}))?|{lx.UNITS})"
_DIGIT_RUN = re.compile(
    r"\b(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
    r"(?:[\s,-]+(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)){4,}\b",
    _I,
)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_SPOKEN_EMAIL = re.compile(
    r"\b[a-z0-9]+(?:\s+dot\s+[a-z0-9]+)*\s+at\s+[a-z0-9-]+(?:\s+dot\s+[a-z0-9-]+)*"
    r"\s+dot\s+(?:com|org|net|edu|gov|io|us|co)\b",
    _I,
)
_PHONE = re.compile(r"(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b")
_PAGER = re.compile(r"\b(?:paged?|pager|beeper|extension|ext\.?)\b[^\n]{0,30}?\b(\d{4,5})\b", _I)
_PHONE_CUE = re.compile(r"\b(?:call(?:ed)?|phone|cell|number|text(?:ed)?|pager|mom|dad)\b", _I)
_RECORD_CUE = re.compile(
    r"\b(?:mrn|m\s?r\s?n|(?:medical\s+)?record|account|acct|chart|patient\s+id|case|member\s+id"
    r"|encounter|visit|csn|fin|admission|policy|ssn|social\s+security|medicaid|medicare"
    r"|insurance|id)(?:\s+(?:number|no\.?|num|#))?\s*#?",
    _I,
)
_RECORD_ID = re.compile(r"[A-Z]{0,3}\d[\d -]{2,}\d\b")
_LONG_NUMBER = re.compile(r"\b\d{6,}\b|\b\d{2,}(?:-\d{2,}){1,3}\b")

# --- dates --------------------------------------------------------------------------------
_DAYNUM = rf"(?:\d{{1,2}}(?:st|nd|rd|th)?|{lx.ORDINALS})"
_MONTH_ANY = rf"(?:{lx.MONTHS}|(?:{lx.MONTH_ABBREV})\.?)"
_DATES: Final = (
    # (optional weekday) Month day (, year) / day of Month
    re.compile(rf"\b(?:(?:{lx.WEEKDAYS}),?\s+)?{_MONTH_ANY}\s+{_DAYNUM}\b(?:,?\s+\d{{4}}\b)?", _I),
    re.compile(rf"\b(?:the\s+)?{_DAYNUM}\s+of\s+(?:{lx.MONTHS}|the\s+month)\b", _I),
    re.compile(r"\bthe\s+\d{1,2}(?:st|nd|rd|th)\b", _I),
    re.compile(
        r"\b(?:(?:mon|tues?|wed|weds|thu|thur|thurs|fri|sat|sun)\.?,?\s+)?"
        r"\d{1,2}/\d{1,2}(?:/\d{2,4})?\b|\b\d{4}-\d{2}-\d{2}\b",
        _I,
    ),
    # a month after a preposition ("in march"), or any capitalised month but May
    re.compile(
        rf"\b(?:in|on|since|until|till|during|last|next|this|early|late|mid|of|by)\s+"
        rf"(?:(?:early|late|mid)[\s-]+)?(?:{lx.MONTHS})\b",
        _I,
    ),
    re.compile(
        r"\b(?:January|February|March|April|June|July|August|September|October"
        r"|November|December)\b"
    ),
    re.compile(
        rf"\b(?:(?:last|next|this|every|on)\s+(?:(?:other|first|second|third|fourth)\s+)?)?"
        rf"(?:{lx.WEEKDAYS})s?\b",
        _I,
    ),
    re.compile(
        rf"\b(?:the\s+(?:night|day|week|morning|evening|weekend)\s+(?:before|after)\s+)?"
        rf"(?:{lx.HOLIDAYS})(?:\s+(?:night|weekend|morning|eve|day|break))?\b",
        _I,
    ),
)

# --- ages ---------------------------------------------------------------------------------
_AGE_NOUN = re.compile(rf"\b{_NUM}[\s-](?:year|month|week|day)s?[\s-]old\b", _I)
_AGE_CUE = re.compile(
    rf"\b(?:was|is|turned|turns|turning|reached|aged?|at)\s+(?:like\s+|about\s+|only\s+|just\s+"
    rf"|barely\s+|almost\s+|nearly\s+)?({_NUM})\b"
    # an age ends the clause; "was one of", "was two weeks" and "at 4417" are not ages
    r"(?=\s*(?:[,.;:!?)]|$|(?:and|when|with|but|so|to|he|she|they|years?|yrs?|then|now"
    r"|because|after|before|who|if|or)\b))",
    _I,
)
_AGE_OF = re.compile(
    rf"\b(?:boy|girl|child|son|daughter|baby|kid|man|woman|teen|teenager|toddler|infant"
    rf"|patient) of ({_NUM})\b",
    _I,
)
# "turned eighteen in the hospital": after turned/turns a number is an age whatever follows.
_AGE_TURNED = re.compile(rf"\b(?:turned|turns|turning)\s+({_NUM})\b", _I)
_AGE_APPOSITION = re.compile(r"\b[A-Z][a-z'’]+,\s+(\d{1,3}),")
_ABBREV: Final = frozenset({"St", "Mt", "Dr", "Mr", "Mrs", "Ms"})
# Endings of English words that start sentences ("Teamwork was", "Nothing had"), not names.
_WORD_ENDINGS: Final = (
    "ing", "ness", "ment", "tion", "sion", "ity", "ship", "ism", "ance", "ence", "work", "back",
    "thing", "one", "body", "ful", "less", "ly", "ed", "ics", "ogy", "cy", "ure", "ive",
)  # fmt: skip
_TIME_WORDS: Final = frozenset({"night", "morning", "evening", "noon", "midnight", "around"})

# --- names and places ---------------------------------------------------------------------
_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’\-]*[A-Za-z]|[A-Za-z]")
_CHILDRENS_OF = re.compile(r"\bChildren'?s\s+(?:Hospital\s+)?of\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?")
# Initials: "J.R.", "J. R.", "A.J.M."; after a patient cue also "JR" and, as the recognizer
# writes letters, "patient j r".
_INITIALS = re.compile(r"(?<![A-Za-z.])(?:[A-Z]\.\s?){1,2}[A-Z]\.(?![A-Za-z])")
_CUED_INITIALS = re.compile(
    r"\b(?:pt\.?|patient|initials|kid|boy|girl|baby|infant|toddler|teen)\s+"
    r"([A-Z]{2,3}\b(?!\.)|[a-z](?:\.?\s|\.)[a-z]\b\.?)"
)
_ROUTE = re.compile(r"\b(?:Route|Highway|Interstate|I-|US-)\s?\d{1,3}\b")
_SAINT = re.compile(r"\b(?:saint|st\.|mount|mt\.)\s+[a-z]+(?:'?s)?\b", _I)
_LOWER_PLACE = re.compile(
    r"\b(?:at|in|from|to|on|near)\s+((?:[a-z][a-z'’]+\s+){1,3}?"
    r"(?:medical\s+center|hospital|clinic|childrens|children's|general|avenue|street|road"
    r"|drive|boulevard|lane|county|university|college|school|institute))\b"
)


def _base(word: str) -> str:
    """The word without a possessive ("Marcus's" -> "Marcus")."""
    for tail in ("'s", "’s", "'", "’"):
        if word.endswith(tail):
            return word[: -len(tail)]
    return word


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("'s", "").replace("’s", ""))


def is_own(piece: str, own: OwnProfile | None) -> bool:
    """Whether ``piece`` is (part of) the applicant's own name or school, allowing typos."""
    if own is None:
        return False
    own_words = {w for entry in (*own.names, *own.places) for w in _words(entry)}
    words = [w for w in _words(piece) if w not in _TITLE_WORDS]
    if not words or not own_words:
        return False
    return all(any(_same_word(w, o) for o in own_words) for w in words)


def _same_word(a: str, b: str) -> bool:
    """Equal, or one edit apart when both have five letters or more ("Ramen" for "Raman")."""
    if a == b:
        return True
    return min(len(a), len(b)) >= _OWN_MIN_FUZZY and Levenshtein.distance(a, b) <= 1


def _f(kind: Kind, text: str, start: int, end: int, conf: float, rule: str) -> Finding:
    return Finding(kind, start, end, text[start:end], conf, rule)


def _contacts(text: str) -> Iterator[Finding]:
    for m in _EMAIL.finditer(text):
        yield _f("email", text, m.start(), m.end(), 0.99, "email")
    for m in _SPOKEN_EMAIL.finditer(text):
        yield _f("email", text, m.start(), m.end(), 0.9, "spoken email")
    for m in _PHONE.finditer(text):
        yield _f("phone", text, m.start(), m.end(), 0.95, "phone")
    for m in _PAGER.finditer(text):
        yield _f("phone", text, m.start(1), m.end(1), 0.8, "pager")
    for m in _DIGIT_RUN.finditer(text):
        digits = [w for w in re.split(r"[\s,-]+", m.group().lower()) if w]
        before = text[max(0, m.start() - 40) : m.start()]
        record_cue = _RECORD_CUE.search(before)
        if not record_cue and (len(digits) >= 10 or _PHONE_CUE.search(before)):
            yield _f("phone", text, m.start(), m.end(), 0.85, "spoken phone")
        else:
            yield _f("record", text, m.start(), m.end(), 0.8, "spoken number")


def _records(text: str) -> Iterator[Finding]:
    for cue in _RECORD_CUE.finditer(text):
        window = text[cue.end() : cue.end() + 40]
        m = _RECORD_ID.search(window)
        if m and not re.search(r"[.;!?]", window[: m.start()]):
            s = cue.end() + m.start()
            yield _f("record", text, s, s + len(m.group().rstrip(" -")), 0.95, "record cue")
    for m in _LONG_NUMBER.finditer(text):
        if re.fullmatch(r"(?:19|20)\d\d-(?:19|20)?\d\d", m.group()):
            continue  # a span of years, "2023-2024"
        yield _f("record", text, m.start(), m.end(), 0.7, "long number")


def _dates(text: str) -> Iterator[Finding]:
    for pattern in _DATES:
        for m in pattern.finditer(text):
            yield _f("date", text, m.start(), m.end(), 0.9, "date")


def _ages(text: str) -> Iterator[Finding]:
    for m in _AGE_NOUN.finditer(text):
        yield _f("age", text, m.start(), m.end(), 0.95, "n-year-old")
    for m in _AGE_CUE.finditer(text):
        number = m.group(1)
        if (number.isdigit() and int(number) > 120) or number.lower() == "one":
            continue
        before = text[: m.start()].split()
        if m.group().lower().startswith("at") and before and before[-1].lower() in _TIME_WORDS:
            continue  # "every night at nine" is a time
        yield _f("age", text, m.start(1), m.end(1), 0.7, "age after a verb")
    for m in _AGE_TURNED.finditer(text):
        if m.group(1).lower() not in ("one", "oh", "zero"):
            yield _f("age", text, m.start(1), m.end(1), 0.8, "turned n")
    for m in _AGE_OF.finditer(text):
        yield _f("age", text, m.start(1), m.end(1), 0.8, "a boy of seven")
    for m in _AGE_APPOSITION.finditer(text):
        if int(m.group(1)) <= 120:
            yield _f("age", text, m.start(1), m.end(1), 0.8, "name, age,")


def _sentence_initial(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or (
        before[-1] in '.!?:;"“(\n'
        and not before.endswith(("Dr.", "Mr.", "Mrs.", "Ms.", "St.", "Mt."))
    )


def _names_and_places(text: str) -> Iterator[Finding]:
    first, last = lx.first_names(), lx.last_names()
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
    # 1. a title and the name after it
    for i, (s, _e, w) in enumerate(tokens):
        if w.lower() not in lx.TITLES:
            continue
        j = i + 1
        if j + 1 < len(tokens) and tokens[j][2] == "and" and tokens[j + 1][2].lower() in lx.TITLES:
            j += 2  # "Mr. and Mrs. Kowalski"
        end = None
        while j < len(tokens) and j <= i + 4:
            ns, _ne, nw = tokens[j]
            gap = text[tokens[j - 1][1] : ns]
            if not re.fullmatch(r"\.?\s+", gap):
                break
            low = _base(nw).lower()
            if end is None and nw.islower() and i and tokens[i - 1][2].lower() in lx.DETERMINERS:
                break  # "a doctor matters": the job, not a title
            if end is None and low in ("o", "mc", "mac") and j + 1 < len(tokens):
                j += 1  # "doctor o neill": the recognizer splits O'Neill
                continue
            if len(low) < 2:
                break
            if nw[0].isupper() and (low not in lx.COMMON or low in lx.EPONYMS):
                end = ns + len(_base(nw))
            elif end is None and low not in lx.COMMON and (low in first or low in last):
                end = ns + len(_base(nw))  # lower case: "doctor okafor"
            elif end is not None and nw.islower() and low in last and low not in lx.COMMON:
                end = ns + len(_base(nw))  # "doctor hannah weiss"
                break
            else:
                break
            if nw != _base(nw):
                break  # a possessive ends the name
            j += 1
        if end is not None:
            yield _f("name", text, s, end, 0.95, "title")
    # 2. capitalised groups
    group: list[tuple[int, int, str]] = []
    for s, _e, w in [*tokens, (len(text), len(text), "")]:
        base = _base(w)
        capital = bool(base) and base[0].isupper() and not base.isupper() and len(base) > 1
        if capital and group and _joins(text, group[-1], s):
            group.append((s, s + len(base), base))
        else:
            if group:
                yield from _classify(text, group, first)
            group = [(s, s + len(base), base)] if capital else []
        if capital and base != w:  # a possessive ends the group
            yield from _classify(text, group, first)
            group = []
    # 3. "Children's of Columbus", "saint marys", lower-case places with a suffix
    for m in _CHILDRENS_OF.finditer(text):
        yield _f("place", text, m.start(), m.end(), 0.85, "children's of")
    for m in _ROUTE.finditer(text):
        yield _f("place", text, m.start(), m.end(), 0.8, "route")
    for m in _SAINT.finditer(text):
        yield _f("place", text, m.start(), m.end(), 0.8, "saint")
    for m in _LOWER_PLACE.finditer(text):
        words = m.group(1).split()
        if not any(w in lx.COMMON for w in words[:-1]) and words[0] not in lx.COMMON:
            yield _f("place", text, m.start(1), m.end(1), 0.75, "lower-case place")
    # 4. lower case: a census first name after a cue, or followed by a census surname
    for i, (s, e, w) in enumerate(tokens):
        low = w.lower()
        if not w.islower() or low in lx.COMMON or low not in first:
            continue
        prev = tokens[i - 1][2].lower() if i else ""
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if nxt and nxt[2].islower() and nxt[2] in last and nxt[2] not in lx.COMMON:
            yield _f("name", text, s, nxt[1], 0.75, "first and last name")
        elif prev in lx.NAME_CUES:
            yield _f("name", text, s, e, 0.7, "name after a cue")
    for i, (s, e, w) in enumerate(tokens):
        low = w.lower()
        if (
            i
            and w.islower()
            and len(low) > 2
            and tokens[i - 1][2].lower() in lx.STRONG_NAME_CUES
            and low not in first
            and low in last
            and low not in lx.COMMON
            and not low.endswith(("ing", "ed", "ly"))
            and _then_person(text, e)
        ):
            yield _f("name", text, s, e, 0.6, "surname-list word after a cue")
    # initials ("J.R.", "pt JR", "patient j r")
    for m in _INITIALS.finditer(text):
        if re.sub(r"[^a-z]", "", m.group().lower()) not in lx.NOT_INITIALS:
            yield _f("name", text, m.start(), m.end(), 0.8, "initials")
    for m in _CUED_INITIALS.finditer(text):
        letters = re.sub(r"[^a-z]", "", m.group(1).lower())
        if letters not in lx.NOT_INITIALS:
            yield _f("name", text, m.start(1), m.end(1), 0.75, "initials after a cue")
    # lower case, clause-initial first name before a verb ("benjamin turned eighteen")
    for i, (s, e, w) in enumerate(tokens):
        low = w.lower()
        if not w.islower() or low in lx.COMMON or low in lx.NOT_NAMES or low not in first:
            continue
        verb = tokens[i + 1] if i + 1 < len(tokens) else None
        if verb is None or verb[2] not in lx.LOWER_NAME_VERBS:
            continue
        if not re.fullmatch(r"\s+", text[e : verb[0]]):
            continue
        before = text[:s].rstrip()
        prev = tokens[i - 1][2].lower() if i else ""
        if not before or before[-1] in ".,;:!?" or prev in ("and", "but", "so", "then", "because"):
            yield _f("name", text, s, e, 0.65, "first name before a verb")
    # "baby boy hernandez": newborns go by their family name
    for m in re.finditer(r"\bbaby\s+(?:boy|girl)\s+([A-Za-z][a-z'’-]+)", text, _I):
        if m.group(1).lower() in last and m.group(1).lower() not in lx.COMMON:
            yield _f("name", text, m.start(1), m.end(1), 0.8, "baby boy/girl")


def _then_person(text: str, end: int) -> bool:
    """What follows reads as after a person ("kid mateo, he was"), not a thing ("teenager
    home after")."""
    rest = text[end:]
    if re.match(r"\s*(?:[,.;:!?)]|$)", rest):
        return True
    nxt = re.match(r"\s+([a-z]+)\b", rest)
    return bool(nxt and nxt.group(1) in lx.LOWER_NAME_VERBS | _PERSON_NEXT)


_PERSON_NEXT: Final = frozenset({"he", "she", "they", "who", "and", "with", "whose", "from"})


def _name_then_verb(text: str, end: int, low: str) -> bool:
    """An unknown word starting a sentence before "was/had/told..." ("Nasir was only 4")."""
    nxt = re.match(r"\s+([a-z]+)\b", text[end:])
    return bool(nxt and nxt.group(1) in lx.NAME_VERBS) and not low.endswith(_WORD_ENDINGS)


def _joins(text: str, prev: tuple[int, int, str], start: int) -> bool:
    gap = text[prev[1] : start]
    return gap.isspace() or (gap.startswith(". ") and gap[1:].isspace() and prev[2] in _ABBREV)


def _classify(
    text: str, group: list[tuple[int, int, str]], first: frozenset[str]
) -> Iterator[Finding]:
    """A run of capitalised words: a place (suffix or cue) or a name, or nothing."""
    lows = [w.lower() for _, _, w in group]
    if (len(group) > 1 and lows[-1] in lx.PLACE_SUFFIXES) or lows[0] in ("st", "mt", "saint"):
        # Leading sentence words ("At Lakeside General") are not part of the place.
        k = 0
        while k < len(group) - 1 and lows[k] in lx.COMMON and lows[k] not in lx.PLACE_SUFFIXES:
            k += 1
        yield _f("place", text, group[k][0], group[-1][1], 0.85, "institution")
        return
    # Drop common words and a sentence-initial word that is not a first name.
    kept: list[tuple[int, int, str] | None] = []
    for n, (s, e, w) in enumerate(group):
        low = w.lower()
        common = (
            low in lx.COMMON
            or low.startswith(("i'", "i’"))
            or ("-" in low and any(p in lx.COMMON for p in low.split("-")))  # "Spanish-speaking"
            # "Hope was what kept me going": a word-name opening a sentence is the word,
            # unless a comma sets it off as a person ("Grace, who was born at 26 weeks")
            or (
                n == 0
                and low in lx.NOT_NAMES
                and _sentence_initial(text, s)
                and not text[e:].startswith(",")
            )
        )
        initial = (
            n == 0
            and _sentence_initial(text, s)
            and low not in first
            and not (len(group) == 1 and _name_then_verb(text, e, low))
        )
        kept.append(None if common or initial else (s, e, w))
    runs: list[list[tuple[int, int, str]]] = [[]]
    for item in kept:
        if item is None:
            runs.append([])
        else:
            runs[-1].append(item)
    for run in runs:
        if not run:
            continue
        before = text[: run[0][0]].split()
        cue = before[-1].lower() if before else ""
        region = run[-1][2].lower() in lx.REGIONS and run[0][2].lower() not in first
        place_cue = cue in lx.PLACE_CUES and run[0][2].lower() not in first
        kind: Kind = "place" if region or place_cue else "name"
        yield _f(kind, text, run[0][0], run[-1][1], 0.8 if kind == "name" else 0.7, "capitalised")


def find(text: str, own: OwnProfile | None = None) -> list[Finding]:
    """Every likely identifier in ``text``, ordered by position, without overlaps."""
    found = [
        *_contacts(text),
        *_records(text),
        *_dates(text),
        *_ages(text),
        *_names_and_places(text),
    ]
    if own is not None:
        found = [f for f in found if not (f.kind in _OWN_KINDS and is_own(f.text, own))]
    found.sort(key=lambda f: (-_PRIORITY[f.kind], -(f.end - f.start), f.start))
    chosen: list[Finding] = []
    for f in found:
        if f.end > f.start and all(f.end <= c.start or c.end <= f.start for c in chosen):
            chosen.append(f)
    return sorted(chosen, key=lambda f: f.start)
