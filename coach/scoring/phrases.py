"""Fuzzy, negation-aware phrase matching over an analysed answer.

Phrase lists come from the rubric data and are compiled once into a :class:`Matcher`:

* every phrase is normalised and stemmed like the answer, so inflections match;
* each answer word is mapped to the phrase vocabulary with :mod:`rapidfuzz` (exact stems
  first, then ``fuzz.ratio`` against words of similar length), so transcription slips such
  as "residancy" or "pediatritian" still count; two-word phrases also match written as one
  word ("subinternship", "medpeds");
* a phrase may skip one article and one auxiliary or adverb ("I have completed" is "I
  completed", "I once forgot" is "I forgot"), and phrases of three or more words may skip
  one extra word;
* a phrase written in the first person ("I listened", "I explained") also matches its verb
  where it carries on a clause whose subject is "I" ("I sat down with her, listened, and
  explained the plan"; see :mod:`coach.scoring.subjects`);
* a match is *negated* when "not", "never", "no", "without", "rather than" or "instead of"
  sits just before it in the same clause ("I don't blame the programs").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from coach.scoring.subjects import first_person_continuations
from coach.scoring.text import Analysis, normalise_words, stem

NEGATORS = frozenset({"not", "no", "never", "without", "nor", "neither", "nothing", "nobody"})
_CLAUSE_WORDS = frozenset({"but", "and", "so", "because", "although", "though", "however", "yet"})
_SKIPPABLE = frozenset({"the", "a", "an"})
# Auxiliaries and adverbs that may sit inside a phrase without changing it: "I have completed",
# "I also joined", "I then began" all say "I completed", "I joined", "I began". Negators are
# never skipped, so "I have not completed" does not match.
_LIGHT = frozenset(
    {
        "have",
        "has",
        "had",
        "also",
        "then",
        "recently",
        "really",
        "just",
        "actually",
        "already",
        # adverbs people slip between "I" and the verb: "I once forgot", "I immediately told"
        "once",
        "always",
        "immediately",
        "quickly",
        "finally",
        "first",
        "later",
        "eventually",
        "still",
        "even",
        "personally",
        "honestly",
        "initially",
        "calmly",
        "promptly",
        "directly",
        "gently",
    }
)
# Words that may sit between a negator and the phrase it negates ("I don't really blame",
# "no one to blame"); any other word ends the negation's reach ("I don't understand why me").
_NEG_BRIDGE = frozenset(
    [
        "really",
        "actually",
        "ever",
        "truly",
        "just",
        "think",
        "feel",
        "believe",
        "want",
        "to",
        "be",
        "was",
        "is",
        "were",
        "have",
        "had",
        "been",
        "any",
        "anyone",
        "anybody",
        "one",
        "the",
        "a",
        "it",
        "that",
        "too",
        "i",
        "at",
        "all",
        "even",
        "necessarily",
        "entirely",
        "fully",
        "only",
        "once",
        "personally",
        # "I never felt it was unfair", "I did not think the process was unfair"
        "felt",
        "thought",
        "believed",
        "found",
        "find",
        "consider",
        "considered",
        "say",
        "said",
        "process",
        "system",
        "outcome",
        "result",
        "whole",
        "this",
        "very",
    ]
)
_NEG_WINDOW = 5
# How far on a phrase's next word may be: one skipped article, adverb and extra word.
_REACH = 4
_MIN_FUZZY_LEN = 5


@dataclass(frozen=True, slots=True)
class Phrase:
    list_id: str
    text: str  # as written in the rubric
    stems: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Match:
    """A phrase found in the answer, token span ``[tok_start, tok_end)``."""

    list_id: str
    phrase: str
    tok_start: int
    tok_end: int
    start: int  # character span in the answer
    end: int
    negated: bool
    sentence: int


def _stems(text: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in normalise_words(text))


def _find_seq(seq: tuple[str, ...], sub: tuple[str, ...]) -> int:
    if not sub:
        return -1
    for i in range(len(seq) - len(sub) + 1):
        if seq[i : i + len(sub)] == sub:
            return i
    return -1


class Matcher:
    """Many named phrase lists compiled into one index, matched in a single pass."""

    def __init__(
        self,
        lists: Mapping[str, Iterable[str]],
        aliases: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        # Phrases by their first word, then by the word that must come next (None for
        # one-word phrases): an answer word only tries phrases whose next word is in reach.
        self._by_first: dict[str, dict[str | None, list[Phrase]]] = {}
        # First-person phrases ("I listened") by their second word, for verbs that carry on
        # an "I" clause without repeating the pronoun; keyed on their third word likewise.
        self._by_second: dict[str, dict[str | None, list[Phrase]]] = {}
        vocab: set[str] = set()
        # Known mis-hearings and spellings: "Med-Peds" may arrive as "med med" or "medpeds".
        alias_stems = [
            (_stems(key), [_stems(v) for v in values]) for key, values in (aliases or {}).items()
        ]
        for list_id, phrases in lists.items():
            for text in phrases:
                stems = _stems(text)
                if not stems:
                    continue
                variants = [stems]
                for key, values in alias_stems:
                    at = _find_seq(stems, key)
                    if at >= 0:
                        variants.extend(
                            stems[:at] + v + stems[at + len(key) :] for v in values if v
                        )
                if len(stems) == 2:  # "sub internship" also matches "subinternship"
                    variants.append((stem(stems[0] + stems[1]),))
                    variants.append((stem("".join(normalise_words(text))),))
                for v in dict.fromkeys(variants):
                    if not v:
                        continue
                    phrase = Phrase(list_id, text, v)
                    by_next = self._by_first.setdefault(v[0], {})
                    by_next.setdefault(v[1] if len(v) > 1 else None, []).append(phrase)
                    if v[0] == "i" and len(v) >= 2:
                        by_next = self._by_second.setdefault(v[1], {})
                        by_next.setdefault(v[2] if len(v) > 2 else None, []).append(phrase)
                    vocab.update(v)
        self.vocab = frozenset(vocab)
        by_len: dict[int, list[str]] = {}
        for w in sorted(vocab):
            by_len.setdefault(len(w), []).append(w)
        self._near: dict[int, list[str]] = {}
        for n in range(_MIN_FUZZY_LEN, max(by_len, default=0) + 3):
            self._near[n] = [w for k in range(n - 2, n + 3) for w in by_len.get(k, [])]
        self._memo: dict[str, tuple[str, ...]] = {}

    def _candidates(self, word_stem: str) -> tuple[str, ...]:
        """Vocabulary stems this answer stem stands for (exact, else close spellings)."""
        hit = self._memo.get(word_stem)
        if hit is not None:
            return hit
        if word_stem in self.vocab:
            result: tuple[str, ...] = (word_stem,)
        elif len(word_stem) < _MIN_FUZZY_LEN:
            result = ()
        else:
            cutoff = 85.0 if len(word_stem) >= 8 else 88.0
            found = process.extract(
                word_stem,
                self._near.get(len(word_stem), ()),
                scorer=fuzz.ratio,
                score_cutoff=cutoff,
                limit=3,
            )
            result = tuple(choice for choice, _, _ in found)
        if len(self._memo) > 200_000:
            self._memo.clear()
        self._memo[word_stem] = result
        return result

    def find(self, analysis: Analysis, only: Sequence[str] | None = None) -> list[Match]:
        """Every non-overlapping phrase match (per list), in text order."""
        tokens = analysis.tokens
        n = len(tokens)
        cands = [self._candidates(t.stem) for t in tokens]
        wanted = set(only) if only is not None else None
        raw: list[Match] = []

        def add(phrase: Phrase, i: int, skip: int) -> None:
            if wanted is not None and phrase.list_id not in wanted:
                return
            end = self._extend(phrase, i, cands, analysis, skip)
            if end is None:
                return
            raw.append(
                Match(
                    phrase.list_id,
                    phrase.text,
                    i,
                    end,
                    tokens[i].start,
                    tokens[end - 1].end,
                    self._negated(analysis, i),
                    tokens[i].sentence,
                )
            )

        def tries(table: dict[str | None, list[Phrase]], i: int) -> list[Phrase]:
            # The next phrase word may sit up to _REACH tokens on (skipped article, adverb,
            # extra word); only phrases whose next word is a candidate there can match.
            found = list(table.get(None, ()))
            seen: set[str] = set()
            for j in range(i + 1, min(n, i + 1 + _REACH)):
                for c in cands[j]:
                    if c not in seen:
                        seen.add(c)
                        found.extend(table.get(c, ()))
            return found

        for i in range(n):
            for c in cands[i]:
                table = self._by_first.get(c)
                if table:
                    for phrase in tries(table, i):
                        add(phrase, i, 1)
        if self._by_second:
            for i in sorted(first_person_continuations(analysis)):
                for c in cands[i]:
                    table = self._by_second.get(c)
                    if table:
                        for phrase in tries(table, i):
                            add(phrase, i, 2)
        # Per list, keep the longest of overlapping matches.
        raw.sort(key=lambda m: (m.list_id, m.tok_start, -(m.tok_end - m.tok_start)))
        kept: list[Match] = []
        last_end: dict[str, int] = {}
        for m in raw:
            if m.tok_start >= last_end.get(m.list_id, -1):
                kept.append(m)
                last_end[m.list_id] = m.tok_end
        kept.sort(key=lambda m: (m.start, m.list_id))
        return kept

    @staticmethod
    def _extend(
        phrase: Phrase, i: int, cands: list[tuple[str, ...]], analysis: Analysis, skip: int
    ) -> int | None:
        """End of the match whose first ``skip`` stems end at token ``i``, or None."""
        tokens = analysis.tokens
        n = len(tokens)
        j = i + 1
        extra_gap = 1 if len(phrase.stems) >= 3 else 0
        for want in phrase.stems[skip:]:
            found = False
            skipped_article = skipped_light = False
            gap_left = extra_gap
            while j < n:
                if tokens[j].sentence != tokens[i].sentence:
                    return None
                if want in cands[j]:
                    found = True
                    j += 1
                    break
                if tokens[j].raw in _SKIPPABLE and not skipped_article:
                    skipped_article = True
                elif tokens[j].raw in _LIGHT and not skipped_light:
                    skipped_light = True
                elif gap_left > 0:
                    gap_left -= 1
                else:
                    return None
                j += 1
            if not found:
                return None
        return j

    @staticmethod
    def _negated(analysis: Analysis, i: int) -> bool:
        tokens = analysis.tokens
        for j in range(i - 1, max(i - 1 - _NEG_WINDOW, -1), -1):
            if tokens[j + 1].brk:
                return False
            raw = tokens[j].raw
            if raw in NEGATORS:
                return True
            if raw == "than" and j > 0 and tokens[j - 1].raw == "rather":
                return True
            if raw == "of" and j > 0 and tokens[j - 1].raw == "instead":
                return True
            if raw in _CLAUSE_WORDS or raw not in _NEG_BRIDGE:
                return False
        return False
