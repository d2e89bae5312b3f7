"""Whose clause a word sits in: the speaker's, or someone else's.

Two small rule-based readings of clause structure over the analysed tokens. Neither is a
parser; both lean towards the speaker when unsure, so they never excuse more than they should.

* :func:`first_person_continuations`: tokens that carry on a clause whose subject is "I" after
  a comma or a coordinator ("I sat down with her, listened, and explained the plan": the
  verbs "listened" and "explained"). Phrase lists are written as "I listened", "I explained";
  these positions let them match the way people actually talk.
* :func:`past_tense_verbs`: how much of the answer is told in the past tense, which tells a
  story ("I sat down with her and listened") from a description of habits ("when there is a
  disagreement I listen").
* :func:`describes_speaker`: "I was dismissive", "I can be rude": a judgement the speaker
  makes of their own behaviour is ownership, not blame.
* :func:`third_party_tokens`: tokens whose nearest clause subject is another person ("the
  mother was angry and scared", "she feared losing the doctors who knew him"). Describing
  someone else's feelings in a conflict or teamwork story is empathy, not venting; the tone
  criterion leaves those words out of its venting check unless they disparage.
"""

from __future__ import annotations

from collections.abc import Mapping

from coach.scoring.text import Analysis

#: Subject pronouns of someone other than the speaker. "who" in these answers nearly always
#: refers to a person just named ("the nurse, who was worried").
OTHER_SUBJECTS = frozenset(
    {
        "he",
        "she",
        "they",
        "who",
        "everyone",
        "everybody",
        "nobody",
        "someone",
        "somebody",
        "anyone",
        "anybody",
    }
)
#: Any subject that is not "I": a first-person clause ends when one of these takes over.
_NOT_I_SUBJECTS = OTHER_SUBJECTS | {"we", "which"}
#: These are subjects only where a clause starts ("it helped"); elsewhere they are objects
#: ("I caught it, told my resident").
_CLAUSE_INITIAL_SUBJECTS = frozenset({"it", "you", "there", "this"})
#: The speaker as an object: "they treated me unfairly" is the speaker's grievance.
_SELF_OBJECTS = frozenset({"me", "us", "myself", "ourselves"})
#: Words after which a clause continues with a new verb or starts a new clause.
_COORDINATORS = frozenset({"and", "then", "or"})
_CLAUSE_STARTS = frozenset(
    {
        "and",
        "but",
        "so",
        "or",
        "then",
        "because",
        "when",
        "while",
        "although",
        "though",
        "that",
        "which",
        "whose",
        "until",
        "if",
        "whereas",
        "once",
    }
)
#: Light words that may sit between a coordinator and its verb ("and then called",
#: ", and immediately told").
_LIGHT = frozenset(
    {
        "then",
        "also",
        "immediately",
        "quickly",
        "finally",
        "later",
        "eventually",
        "always",
        "now",
        "just",
        "actually",
        "really",
        "even",
        "still",
        "together",
        "personally",
        "gently",
        "calmly",
        "first",
    }
)
_PREPOSITIONS = frozenset(
    {
        "with",
        "to",
        "at",
        "for",
        "from",
        "about",
        "by",
        "of",
        "toward",
        "towards",
        "against",
        "on",
        "in",
        "into",
        "without",
        "like",
        "between",
        "among",
        "behind",
        "around",
        "than",
    }
)
_DETERMINERS = frozenset(
    {
        "the",
        "a",
        "an",
        "my",
        "our",
        "his",
        "her",
        "their",
        "your",
        "this",
        "that",
        "these",
        "those",
        "one",
        "each",
        "every",
        "another",
        "other",
        "both",
        "all",
        "some",
        "two",
        "three",
        "new",
        "young",
        "older",
        "elderly",
    }
)
#: A person named right before one of these is the subject of a new clause, even without
#: "that": "I could tell the charge nurse was frustrated".
_STATE_VERBS = frozenset(
    {
        "was",
        "were",
        "is",
        "are",
        "had",
        "has",
        "felt",
        "feels",
        "seemed",
        "seems",
        "looked",
        "looks",
        "sounded",
        "got",
        "gets",
        "became",
        "grew",
        "kept",
        "remained",
        "stayed",
    }
)
# "Step I", "sub-I", "type I", "Level I": the roman numeral, not the speaker.
_NUMERAL_BEFORE = frozenset({"sub", "step", "type", "level"})


def is_pronoun_i(analysis: Analysis, k: int) -> bool:
    """Token ``k`` is the pronoun "I" (not the numeral in "Step I" or "sub-I")."""
    tokens = analysis.tokens
    if tokens[k].raw != "i":
        return False
    if k > 0 and tokens[k - 1].sentence == tokens[k].sentence:
        prev = tokens[k - 1]
        if prev.raw in _NUMERAL_BEFORE and not tokens[k].brk:
            return False
    return True


def first_person_continuations(analysis: Analysis) -> frozenset[int]:
    """Tokens that continue a clause whose subject is "I" after a comma or a coordinator.

    ``I sat down with her, listened, and learned that she...`` marks "listened" and
    "learned"; a new subject ("she", "we", "it") ends the run until the next "I".
    """
    tokens = analysis.tokens
    out: set[int] = set()
    for s in analysis.sentences:
        in_scope = False
        for k in range(s.first_token, s.last_token):
            t = tokens[k]
            if is_pronoun_i(analysis, k):
                in_scope = True
                continue
            if t.raw in _NOT_I_SUBJECTS or (
                t.raw in _CLAUSE_INITIAL_SUBJECTS
                and (
                    k == s.first_token
                    or t.brk
                    or tokens[k - 1].raw in _CLAUSE_STARTS
                    or tokens[k - 1].raw in _COORDINATORS
                )
            ):
                in_scope = False
                continue
            if not in_scope or k == s.first_token:
                continue
            if t.raw in _COORDINATORS or t.raw in _LIGHT:
                continue
            # Walk back over light words to the comma or coordinator that opens this verb.
            j = k
            while j > s.first_token and tokens[j - 1].raw in _LIGHT and not tokens[j].brk:
                j -= 1
            if tokens[j].brk or (j > s.first_token and tokens[j - 1].raw in _COORDINATORS):
                out.add(k)
    return frozenset(out)


def _after_preposition(analysis: Analysis, k: int, first: int) -> bool:
    """The person named at ``k`` is the object of a preposition ("angry at the nurse")."""
    tokens = analysis.tokens
    j = k - 1
    steps = 0
    while j >= first and tokens[j].raw in _DETERMINERS and steps < 3:
        if tokens[j + 1].brk:
            return False
        j -= 1
        steps += 1
    return j >= first and not tokens[j + 1].brk and tokens[j].raw in _PREPOSITIONS


def third_party_tokens(analysis: Analysis, people: Mapping[int, int]) -> frozenset[int]:
    """Tokens whose clause subject is someone other than the speaker.

    ``people`` maps the first token of each person named in the answer ("the mother", "a
    charge nurse", "the family") to the token after it. A clause's subject is the first "I",
    "we", third-person pronoun or person named before its verb; a clause with no subject
    continues the previous one ("the mother was angry and scared"). "me" and "us" hand the
    rest of their clause back to the speaker ("they treated me unfairly"). With no subject in
    sight, a word is the speaker's.
    """
    tokens = analysis.tokens
    out: set[int] = set()
    for s in analysis.sentences:
        subject_other = False
        slot_free = True  # no subject yet in the current clause
        handed_back = False  # "me"/"us" seen in this clause
        k = s.first_token
        while k < s.last_token:
            t = tokens[k]
            if k > s.first_token and (t.brk or tokens[k - 1].raw in _CLAUSE_STARTS):
                slot_free = True
                handed_back = False
            raw = t.raw
            end = k + 1
            if is_pronoun_i(analysis, k) or raw == "we":
                subject_other, slot_free, handed_back = False, False, False
            elif raw in _SELF_OBJECTS:
                handed_back = True
            elif raw in OTHER_SUBJECTS:
                subject_other, slot_free, handed_back = True, False, False
            elif k in people:
                end = max(end, people[k])
                starts_clause = end < s.last_token and tokens[end].raw in _STATE_VERBS
                if starts_clause or (
                    slot_free and not _after_preposition(analysis, k, s.first_token)
                ):
                    subject_other, slot_free, handed_back = True, False, False
            if subject_other and not handed_back:
                out.update(range(k, end))
            k = end
    return frozenset(out)


# Common irregular past forms; regular ones end in "-ed".
_IRREGULAR_PAST = frozenset(
    [
        "was",
        "were",
        "had",
        "did",
        "told",
        "said",
        "sat",
        "went",
        "got",
        "made",
        "took",
        "gave",
        "found",
        "brought",
        "kept",
        "met",
        "ran",
        "wrote",
        "spoke",
        "saw",
        "heard",
        "knew",
        "came",
        "thought",
        "felt",
        "left",
        "began",
        "built",
        "caught",
        "forgot",
        "sent",
        "stood",
        "lost",
        "led",
        "fell",
        "held",
        "paid",
        "understood",
        "taught",
        "meant",
        "chose",
        "drove",
        "woke",
        "became",
        "grew",
        "threw",
        "broke",
        "wore",
        "won",
        "sought",
        "spent",
        "bought",
        "rode",
        "struck",
        "stuck",
        "hung",
        "dealt",
    ]
)


def past_tense_verbs(analysis: Analysis) -> list[int]:
    """Tokens that look like past-tense verbs ("told", "sat", "explained")."""
    out: list[int] = []
    for k, t in enumerate(analysis.tokens):
        raw = t.raw
        if raw in _IRREGULAR_PAST or (
            len(raw) >= 5 and raw.endswith("ed") and not raw.endswith("eed")
        ):
            out.append(k)
    return out


_COPULAS = frozenset({"was", "am", "is", "be", "been", "being", "were"})
_DEGREE = frozenset(
    {"a", "bit", "little", "too", "so", "pretty", "really", "kind", "sort", "of", "quite", "very"}
)
_AUX = frozenset(
    {"had", "have", "could", "can", "would", "might", "may", "will", "sometimes", "often", "also"}
)


def describes_speaker(analysis: Analysis, k: int) -> bool:
    """The word at token ``k`` (or the phrase starting there) says what the speaker was:
    "I was dismissive", "I can be a bit curt", "I'd been rude" (but not "I was treated
    unfairly" or "I felt it was unfair")."""
    tokens = analysis.tokens
    first = analysis.sentences[tokens[k].sentence].first_token
    j = k - 1
    if tokens[k].raw not in _COPULAS:
        steps = 0
        while j >= first and tokens[j].raw in _DEGREE and steps < 3 and not tokens[j + 1].brk:
            j -= 1
            steps += 1
        if j < first or tokens[j + 1].brk or tokens[j].raw not in _COPULAS:
            return False
        j -= 1
    while j >= first and tokens[j].raw in _AUX and not tokens[j + 1].brk:
        j -= 1
    if j < first or tokens[j + 1].brk:
        return False
    return is_pronoun_i(analysis, j) or tokens[j].raw == "we"
