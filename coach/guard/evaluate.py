"""Precision and recall of a detector on the labelled guard sentences (tests and benchmarks).

The labelled file (``tests/data/guard_sentences.toml``) has a ``[profile]`` with the
applicant's ``own_names`` and ``own_places`` and ``[[sentence]]`` entries with ``set``,
``text`` and ``spans = [{kind, text}]``; every occurrence of a span's text in the sentence is
that kind. A found span counts as correct when it overlaps a labelled span of the same kind
(span-level, overlap match); a labelled span is recalled when a found span of its kind
overlaps it. ``covered`` is kinder: a labelled span overlapped by a found span of any kind,
which is what matters when everything found is redacted.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coach.errors import DataFileError
from coach.guard import KINDS, OwnProfile

SETS = ("clinical", "asr", "own", "plain")

#: A detector under test: text and profile in, (kind, start, end) spans out.
Detector = Callable[[str, OwnProfile], Iterable[tuple[str, int, int]]]


@dataclass(frozen=True, slots=True)
class Span:
    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class LabelledSentence:
    set: str
    text: str
    spans: tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class LabelledSet:
    own: OwnProfile
    sentences: tuple[LabelledSentence, ...]


@dataclass(slots=True)
class Tally:
    true_pos: int = 0  # found spans that match a label of their kind
    found: int = 0
    recalled: int = 0  # labels overlapped by a found span of their kind
    covered: int = 0  # labels overlapped by a found span of any kind
    labelled: int = 0

    @property
    def precision(self) -> float | None:
        return self.true_pos / self.found if self.found else None

    @property
    def recall(self) -> float | None:
        return self.recalled / self.labelled if self.labelled else None

    def as_dict(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 3)

        return {
            "precision": r(self.precision),
            "recall": r(self.recall),
            "covered": r(self.covered / self.labelled if self.labelled else None),
            "found": self.found,
            "labelled": self.labelled,
        }


@dataclass(slots=True)
class Evaluation:
    per_kind: dict[str, dict[str, Tally]] = field(default_factory=dict)  # set -> kind -> tally
    own_flagged: list[str] = field(default_factory=list)  # own-profile words that were flagged
    false_alarms: list[str] = field(default_factory=list)  # found spans matching no label
    misses: list[str] = field(default_factory=list)  # labels not recalled

    def tally(self, set_name: str, kind: str) -> Tally:
        return self.per_kind.setdefault(set_name, {}).setdefault(kind, Tally())

    def total(self, kind: str, sets: Sequence[str] = SETS) -> Tally:
        out = Tally()
        for s in sets:
            t = self.per_kind.get(s, {}).get(kind)
            if t:
                out.true_pos += t.true_pos
                out.found += t.found
                out.recalled += t.recalled
                out.covered += t.covered
                out.labelled += t.labelled
        return out


def load_labelled(path: Path) -> LabelledSet:
    """Read and check the labelled file; errors name the file and the sentence."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataFileError(f"{path}: cannot read: {exc}") from exc
    profile = data.get("profile", {})
    own = OwnProfile.of(profile.get("own_names", ()), profile.get("own_places", ()))
    sentences = []
    for n, entry in enumerate(data.get("sentence", []), 1):
        text = entry.get("text")
        set_name = entry.get("set")
        if not isinstance(text, str) or set_name not in SETS:
            raise DataFileError(f"{path}: sentence {n}: needs text and a set in {SETS}")
        spans = []
        for label in entry.get("spans", []):
            kind, needle = label.get("kind"), label.get("text")
            if kind not in KINDS or not needle:
                raise DataFileError(f"{path}: sentence {n}: span {label!r}: bad kind or text")
            hits = [m.start() for m in re.finditer(re.escape(needle), text)]
            if not hits:
                raise DataFileError(f"{path}: sentence {n}: span text {needle!r} not in text")
            spans += [Span(kind, i, i + len(needle)) for i in hits]
        sentences.append(LabelledSentence(set_name, text, tuple(spans)))
    return LabelledSet(own, tuple(sentences))


def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def evaluate(detector: Detector, labelled: LabelledSet) -> Evaluation:
    """Run ``detector`` over every sentence and count per set and kind."""
    ev = Evaluation()
    own_pattern = "|".join(
        re.escape(w) for w in sorted((*labelled.own.names, *labelled.own.places), key=len)[::-1]
    )
    for s in labelled.sentences:
        found = [Span(k, a, b) for k, a, b in detector(s.text, labelled.own) if b > a]
        own_spans = (
            [Span("own", m.start(), m.end()) for m in re.finditer(own_pattern, s.text, re.I)]
            if own_pattern
            else []
        )
        for f in found:
            if f.kind not in KINDS:
                continue
            t = ev.tally(s.set, f.kind)
            t.found += 1
            if any(g.kind == f.kind and _overlaps(f, g) for g in s.spans):
                t.true_pos += 1
            else:
                ev.false_alarms.append(f"[{s.set}] {f.kind}: {s.text[f.start : f.end]!r}")
                if any(_overlaps(f, o) for o in own_spans):
                    ev.own_flagged.append(f"{f.kind}: {s.text[f.start : f.end]!r} in {s.text!r}")
        for g in s.spans:
            t = ev.tally(s.set, g.kind)
            t.labelled += 1
            if any(f.kind == g.kind and _overlaps(f, g) for f in found):
                t.recalled += 1
            else:
                ev.misses.append(f"[{s.set}] {g.kind}: {s.text[g.start : g.end]!r}")
            if any(_overlaps(f, g) for f in found):
                t.covered += 1
    return ev


def summary(ev: Evaluation) -> dict[str, Any]:
    """JSON-ready figures: per set and kind, and over all sets."""
    out: dict[str, Any] = {}
    for s in SETS:
        kinds = {k: ev.total(k, (s,)).as_dict() for k in KINDS if ev.per_kind.get(s, {}).get(k)}
        if kinds:
            out[s] = kinds
    out["all"] = {k: ev.total(k).as_dict() for k in KINDS}
    out["own_flagged"] = ev.own_flagged
    return out
