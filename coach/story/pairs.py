"""The labelled answer pairs that measure the consistency check (precision and recall).

``tests/data/story_pairs.toml`` is the set the rules were built on; ``story_pairs_holdout.toml``
was written afterwards and never used to tune them. ``benchmarks/story.py`` prints both; a test
holds the measured floor.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coach.story.consistency import AnswerText, ConsistencyFlag, compare_answers

LABELS = ("contradiction", "consistent")
KINDS = (
    "programs",
    "interviews",
    "months",
    "score",
    "attempts",
    "role",
    "specialties",
    "soap",
    "mixed",
)


@dataclass(frozen=True, slots=True)
class LabelledPair:
    id: str
    kind: str
    label: str
    asr: bool
    a: AnswerText
    b: AnswerText

    @property
    def contradiction(self) -> bool:
        return self.label == "contradiction"


def load_pairs(path: Path) -> list[LabelledPair]:
    """The pairs of one file (DataFileError naming the file and key when one is malformed)."""
    from coach.datafile import Checker, did_you_mean, read_toml
    from coach.questions import CATEGORIES

    data = read_toml(path)
    c = Checker(path)
    c.unknown(data, ("version", "pairs"), "")
    raw = data.get("pairs")
    if not isinstance(raw, list) or not raw:
        raise c.fail("pairs", "must hold [[pairs]] entries", "add a [[pairs]] table")
    out: list[LabelledPair] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        key = f"pairs[{i}]"
        t = c.table(entry, key)
        c.unknown(t, ("id", "kind", "label", "asr", "a", "b", "a_category", "b_category"), key)
        pid = c.string(t.get("id"), f"{key}.id")
        if pid in seen:
            raise c.fail(f"{key}.id", f"repeats '{pid}'", "give each pair its own id")
        seen.add(pid)
        for field, allowed in (("label", LABELS), ("kind", KINDS)):
            value = c.string(t.get(field), f"{key}.{field}")
            if value not in allowed:
                raise c.fail(f"{key}.{field}", f"is '{value}'", did_you_mean(value, allowed))
        sides = []
        for side in ("a", "b"):
            cat = c.string(t.get(f"{side}_category"), f"{key}.{side}_category")
            if cat not in CATEGORIES:
                raise c.fail(f"{key}.{side}_category", f"is '{cat}'", did_you_mean(cat, CATEGORIES))
            sides.append(AnswerText(f"{cat} answer", c.string(t.get(side), f"{key}.{side}")))
        out.append(
            LabelledPair(
                pid,
                t["kind"],
                t["label"],
                c.boolean(t.get("asr", False), f"{key}.asr"),
                sides[0],
                sides[1],
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class PairResult:
    pair: LabelledPair
    flags: tuple[ConsistencyFlag, ...]

    @property
    def flagged(self) -> bool:
        return bool(self.flags)


def _pr(results: list[PairResult]) -> dict[str, Any]:
    tp = sum(1 for r in results if r.flagged and r.pair.contradiction)
    fp = sum(1 for r in results if r.flagged and not r.pair.contradiction)
    fn = sum(1 for r in results if not r.flagged and r.pair.contradiction)
    tn = len(results) - tp - fp - fn
    return {
        "pairs": len(results),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / (tp + fn), 3) if tp + fn else None,
    }


def evaluate(pairs: list[LabelledPair]) -> dict[str, Any]:
    """Precision and recall of "any flag" against the labels, overall, per kind and for ASR."""
    results = [PairResult(p, tuple(compare_answers(p.a, p.b))) for p in pairs]
    by_kind: dict[str, list[PairResult]] = defaultdict(list)
    for r in results:
        by_kind[r.pair.kind].append(r)
    return {
        **_pr(results),
        "asr": _pr([r for r in results if r.pair.asr]),
        "kinds": {k: _pr(v) for k, v in sorted(by_kind.items())},
        # A caught contradiction should be caught for the right reason (its labelled kind).
        "wrong_kind": [
            r.pair.id
            for r in results
            if r.flagged and r.pair.contradiction and r.pair.kind not in {f.kind for f in r.flags}
        ],
        "missed": [r.pair.id for r in results if r.pair.contradiction and not r.flagged],
        "false_flags": [
            {"id": r.pair.id, "message": r.flags[0].message}
            for r in results
            if r.flagged and not r.pair.contradiction
        ],
    }
